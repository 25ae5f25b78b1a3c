/**
 * The content store's promise client: one method per unary RPC (reads
 * retried, writes never), resumable uploads, and reads as async iterables.
 */
import type { ChannelCredentials, ChannelOptions } from '@grpc/grpc-js';
import { content } from '@griot/proto';
import { contentCodecs, UploadBlobClient, type UploadBlobClientTls } from '@griot/transport';
import type { Readable } from 'node:stream';
import { callUnary, fillRequest as fill, type CallOptions, type CallSite, type RequestOf, type UnaryStarter } from './call';
import { download, readContent, type DownloadOptions, type ReadOptions } from './download';
import { uploadFile, uploadStream, type UploadOptions, type UploadOutcome } from './upload';

/** The client of `griot.content.v1.ContentService`. */
export class ContentClient {
  /** The generated grpc-js client, with the codecs that copy chunk bytes least. */
  readonly raw: content.ContentServiceClient;
  /** The copy-free UploadBlob client. */
  readonly uploads: UploadBlobClient;

  /**
   * @param site - The content store's address, audience, identity, deadline and retry policy.
   * @param credentials - Plaintext or TLS channel credentials.
   * @param tls - The same TLS files, for the UploadBlob client; plaintext when absent.
   * @param channelOptions - grpc-js channel options.
   */
  constructor(
    readonly site: CallSite,
    credentials: ChannelCredentials,
    tls?: UploadBlobClientTls,
    channelOptions: ChannelOptions = {},
  ) {
    this.raw = new contentCodecs.ContentServiceClient(site.address, credentials, channelOptions);
    this.uploads = new UploadBlobClient(site.address, { tls });
  }

  private call<T>(start: UnaryStarter<T>, options: CallOptions | undefined, idempotent: boolean): Promise<T> {
    return callUnary(this.site, start, options, idempotent);
  }

  /** The committed size of an upload (retried). */
  getUploadStatus(request: RequestOf<content.GetUploadStatusRequest>, options?: CallOptions): Promise<content.GetUploadStatusResponse> {
    const req = fill(content.GetUploadStatusRequest, request);
    return this.call((md, o, cb) => this.raw.getUploadStatus(req, md, o, cb), options, true);
  }

  /** Which of some digests the store lacks (retried). */
  findMissingBlobs(request: RequestOf<content.FindMissingBlobsRequest>, options?: CallOptions): Promise<content.FindMissingBlobsResponse> {
    const req = fill(content.FindMissingBlobsRequest, request);
    return this.call((md, o, cb) => this.raw.findMissingBlobs(req, md, o, cb), options, true);
  }

  /** A blob's metadata (retried). */
  getBlob(request: RequestOf<content.GetBlobRequest>, options?: CallOptions): Promise<content.GetBlobResponse> {
    const req = fill(content.GetBlobRequest, request);
    return this.call((md, o, cb) => this.raw.getBlob(req, md, o, cb), options, true);
  }

  /** Records a manifest of contents. */
  createManifest(request: RequestOf<content.CreateManifestRequest>, options?: CallOptions): Promise<content.CreateManifestResponse> {
    const req = fill(content.CreateManifestRequest, request);
    return this.call((md, o, cb) => this.raw.createManifest(req, md, o, cb), options, false);
  }

  /** Reads a manifest (retried). */
  getManifest(request: RequestOf<content.GetManifestRequest>, options?: CallOptions): Promise<content.GetManifestResponse> {
    const req = fill(content.GetManifestRequest, request);
    return this.call((md, o, cb) => this.raw.getManifest(req, md, o, cb), options, true);
  }

  /** Lists manifests, one page (retried). */
  listManifests(request: RequestOf<content.ListManifestsRequest> = {}, options?: CallOptions): Promise<content.ListManifestsResponse> {
    const req = fill(content.ListManifestsRequest, request);
    return this.call((md, o, cb) => this.raw.listManifests(req, md, o, cb), options, true);
  }

  /** Deletes a manifest (its creator or a content operator). */
  deleteManifest(request: RequestOf<content.DeleteManifestRequest>, options?: CallOptions): Promise<content.DeleteManifestResponse> {
    const req = fill(content.DeleteManifestRequest, request);
    return this.call((md, o, cb) => this.raw.deleteManifest(req, md, o, cb), options, false);
  }

  /**
   * Reads bytes (a blob, or a content by id or manifest and key) as chunks;
   * a dropped stream continues after the bytes received.
   */
  readContent(request: RequestOf<content.ReadContentRequest>, options?: ReadOptions): AsyncGenerator<Buffer, void, undefined> {
    return readContent(this, fill(content.ReadContentRequest, request), options);
  }

  /** Downloads a blob by SHA-256, whole (verified) or a range of it. */
  download(sha256: string, options?: DownloadOptions): AsyncGenerator<Buffer, void, undefined> {
    return download(this, sha256, options);
  }

  /** Uploads a file, resuming from the committed offset after a failed attempt. */
  uploadFile(path: string, options?: UploadOptions): Promise<UploadOutcome> {
    return uploadFile(this, path, options);
  }

  /** Uploads a stream's bytes (through a temporary file, so that it can resume). */
  uploadStream(source: Readable | AsyncIterable<Uint8Array>, options?: UploadOptions): Promise<UploadOutcome> {
    return uploadStream(this, source, options);
  }

  /** Closes the channels. */
  close(): void {
    this.raw.close();
    this.uploads.close();
  }
}
