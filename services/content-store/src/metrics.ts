/**
 * The content store's own metrics (`griot_content_*`), registered in the
 * registry of its service instance (see ServiceMetrics in server-kit).
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** What the content store counts. */
export class ContentMetrics {
  /** Bytes received by UploadBlob and written to a storage. */
  readonly bytesUploaded: Counter;
  /** Bytes sent by the read calls. */
  readonly bytesServed: Counter;
  /** UploadBlob streams running now. */
  readonly uploadsInProgress: Gauge;
  /** Uploads answered from a blob the store already held. */
  readonly deduplicatedUploads: Counter;
  /** Time to make an upload's staged bytes durable (fsync, or the storage's own) and record it. */
  readonly checkpointSeconds: Histogram;
  /** Unreferenced blobs the sweeper deleted. */
  readonly blobsSwept: Counter;
  /** Unfinished uploads the sweeper expired. */
  readonly uploadsExpired: Counter;

  constructor(registry: Registry) {
    const registers = [registry];
    this.bytesUploaded = new Counter({ name: 'griot_content_uploaded_bytes_total', help: 'Bytes received by UploadBlob and written to a storage.', registers });
    this.bytesServed = new Counter({ name: 'griot_content_served_bytes_total', help: 'Bytes sent by ReadBlob and ReadContent.', registers });
    this.uploadsInProgress = new Gauge({ name: 'griot_content_uploads_in_progress', help: 'UploadBlob streams running now.', registers });
    this.deduplicatedUploads = new Counter({ name: 'griot_content_deduplicated_uploads_total', help: 'Uploads answered from a blob the store already held.', registers });
    this.checkpointSeconds = new Histogram({
      name: 'griot_content_checkpoint_seconds',
      help: 'Time to make an upload\'s staged bytes durable (fsync) and record the committed size.',
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    });
    this.blobsSwept = new Counter({ name: 'griot_content_swept_blobs_total', help: 'Unreferenced blobs the sweeper deleted.', registers });
    this.uploadsExpired = new Counter({ name: 'griot_content_expired_uploads_total', help: 'Unfinished uploads the sweeper expired.', registers });
  }
}
