/**
 * The {@link UploadWriter} of the GCS storage. Each run of writes between two
 * syncs becomes one part object, sent as a resumable upload that streams while
 * the bytes arrive; sync ends the upload, and the part is durable once GCS has
 * finalized the object. A writer that is destroyed mid-part leaves no object.
 */
import type { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import type { Bucket } from '@google-cloud/storage';
import type { UploadWriter } from './blob-store';
import { UploadWriterClosedError } from './errors';
import { toStorageError } from './gcs-errors';
import type { GcsObjectNames } from './gcs-object-names';
import { SerialQueue } from './serial-queue';

/** The part being written. */
interface OpenPart {
  stream: Writable;
  start: number;
  written: number;
  failure: unknown;
}

/** Writes the part objects of one upload, from the offset it was opened at. */
export class GcsUploadWriter implements UploadWriter {
  private readonly queue = new SerialQueue();
  private part: OpenPart | undefined;
  private closed = false;

  /**
   * @param storageName - For errors.
   * @param bucket - The bucket.
   * @param names - Object naming of the storage.
   * @param uploadId - A normalized upload id.
   * @param durableSize - Bytes already durably staged (the offset opened at).
   */
  constructor(
    private readonly storageName: string,
    private readonly bucket: Bucket,
    private readonly names: GcsObjectNames,
    private readonly uploadId: string,
    private durableSize: number,
  ) {}

  /** {@inheritDoc UploadWriter.write} */
  write(chunk: Uint8Array): Promise<void> {
    return this.queue.run(async () => {
      this.assertOpen();
      // An empty write must not open a part: two parts would share a start offset.
      if (chunk.length === 0) return;
      const part = (this.part ??= this.startPart());
      if (part.failure !== undefined) throw toStorageError(this.storageName, part.failure);
      // The stream keeps the chunk until it is sent; copy it so the caller may reuse its buffer.
      const accepted = part.stream.write(Buffer.from(chunk));
      part.written += chunk.length;
      if (!accepted) {
        await drained(part).catch((err: unknown) => {
          throw toStorageError(this.storageName, part.failure ?? err);
        });
      }
    });
  }

  /** {@inheritDoc UploadWriter.sync} */
  sync(): Promise<number> {
    return this.queue.run(async () => {
      this.assertOpen();
      return this.finishPart();
    });
  }

  /** {@inheritDoc UploadWriter.close} */
  close(): Promise<number> {
    return this.queue.run(async () => {
      this.assertOpen();
      try {
        return await this.finishPart();
      } finally {
        this.closed = true;
        this.abandonPart();
      }
    });
  }

  /** {@inheritDoc UploadWriter.destroy} */
  destroy(): Promise<void> {
    return this.queue.run(async () => {
      this.closed = true;
      const part = this.abandonPart();
      if (part) await finished(part.stream).catch(() => undefined);
    });
  }

  private startPart(): OpenPart {
    const file = this.bucket.file(this.names.part(this.uploadId, this.durableSize));
    const stream = file.createWriteStream({
      resumable: true,
      // Create-only: a part is written once; a name clash means another writer is active.
      preconditionOpts: { ifGenerationMatch: 0 },
      metadata: { contentType: 'application/octet-stream' },
    });
    const part: OpenPart = { stream, start: this.durableSize, written: 0, failure: undefined };
    stream.on('error', (err: unknown) => {
      part.failure ??= err;
    });
    return part;
  }

  private async finishPart(): Promise<number> {
    const part = this.part;
    if (!part) return this.durableSize;
    this.part = undefined;
    if (part.failure !== undefined) throw toStorageError(this.storageName, part.failure);
    part.stream.end();
    try {
      // 'finish' comes after GCS answered with the object and the CRC32C matched.
      await finished(part.stream);
    } catch (err) {
      throw toStorageError(this.storageName, part.failure ?? err);
    }
    this.durableSize = part.start + part.written;
    return this.durableSize;
  }

  private abandonPart(): OpenPart | undefined {
    const part = this.part;
    this.part = undefined;
    // Destroying with an error aborts the upload request, so GCS never finalizes the part.
    if (part && !part.stream.destroyed) part.stream.destroy(new Error('upload writer destroyed'));
    return part;
  }

  private assertOpen(): void {
    if (this.closed) throw new UploadWriterClosedError(this.uploadId);
  }
}

/** Resolves on 'drain'; rejects if the stream fails or closes first. */
function drained(part: OpenPart): Promise<void> {
  return new Promise((resolve, reject) => {
    const cleanup = () => {
      part.stream.off('drain', onDrain);
      part.stream.off('error', onError);
      part.stream.off('close', onClose);
    };
    const onDrain = () => {
      cleanup();
      resolve();
    };
    const onError = (err: unknown) => {
      cleanup();
      reject(err);
    };
    const onClose = () => {
      cleanup();
      reject(part.failure ?? new Error('part upload closed before draining'));
    };
    part.stream.on('drain', onDrain);
    part.stream.on('error', onError);
    part.stream.on('close', onClose);
  });
}
