/**
 * Moving bytes to and from the content store: resumable chunked uploads with
 * backpressure, and streamed reads.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { once } from 'node:events';
import { status, type Metadata, type ServiceError } from '@grpc/grpc-js';
import { content } from '@griot/proto';
import { CliError } from './cli-error';
import { isServiceError, toCliError, unary, type Endpoint, type ServiceClients } from './grpc-call';

/** The `aud` of caller tokens for the content store (its CONTENT_TOKEN_AUDIENCE default). */
export const CONTENT_AUDIENCE = 'griot-content';

/** The largest chunk sent in one UploadBlob message. */
export const UPLOAD_CHUNK_BYTES = 1024 * 1024;

/** The SHA-256 and size of a file. */
export interface FileDigest {
  /** Lowercase hex SHA-256. */
  readonly sha256: string;
  /** Size in bytes. */
  readonly size: number;
}

/**
 * Hashes a file by streaming it.
 *
 * @param path - The file.
 */
export async function hashFile(path: string): Promise<FileDigest> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of createReadStream(path)) {
    hash.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  return { sha256: hash.digest('hex'), size };
}

/**
 * The upload id of a blob: a UUID derived from its SHA-256 and size, so that
 * uploading the same file again resumes the interrupted upload.
 *
 * @param digest - The blob's SHA-256 and size.
 */
export function uploadIdFor(digest: FileDigest): string {
  const b = createHash('sha256').update(`griot-upload:${digest.sha256}:${digest.size}`).digest().subarray(0, 16);
  b[6] = (b[6]! & 0x0f) | 0x80; // version 8: custom, name-based
  b[8] = (b[8]! & 0x3f) | 0x80; // RFC 4122 variant
  const hex = b.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** What {@link uploadFile} did. */
export interface UploadOutcome {
  /** The upload id. */
  readonly uploadId: string;
  /** True when the store already held the blob. */
  readonly deduplicated: boolean;
  /** The offset the upload continued from (0 for a fresh upload). */
  readonly resumedFrom: number;
  /** The bytes sent in this run. */
  readonly sentBytes: number;
}

/** Options of {@link uploadFile}. */
export interface UploadFileOptions {
  /** The file to upload. */
  readonly path: string;
  /** Its digest, from {@link hashFile}. */
  readonly digest: FileDigest;
  /** Called with the bytes of the blob done so far (committed + sent). */
  readonly onProgress?: (done: number) => void;
  /** The largest chunk per message. */
  readonly chunkBytes?: number;
  /** The UploadBlob call's metadata: the uploader's caller token (`authorization`), which the store requires. */
  readonly metadata?: Metadata;
}

async function committedSize(client: content.ContentServiceClient, endpoint: Endpoint, uploadId: string): Promise<{ offset: number; complete: boolean }> {
  try {
    const res = await unary<content.GetUploadStatusResponse>(endpoint, (md, o, cb) => client.getUploadStatus({ uploadId }, md, o, cb));
    return { offset: res.committedSize, complete: res.complete };
  } catch (err: unknown) {
    if (err instanceof CliError && isServiceError(err.cause) && err.cause.code === status.NOT_FOUND) return { offset: 0, complete: false };
    throw err;
  }
}

/**
 * Uploads a file as a blob, resuming an interrupted upload of the same file
 * from what the store committed, and skipping the bytes entirely when the
 * store already holds the digest.
 *
 * @param clients - The content store's clients and endpoint.
 * @param options - The file, its digest and a progress callback.
 * @throws {@link CliError} when the store refuses the upload or cannot be reached.
 */
export async function uploadFile(clients: Pick<ServiceClients, 'content' | 'uploads' | 'contentEndpoint'>, options: UploadFileOptions): Promise<UploadOutcome> {
  const { digest, path } = options;
  const endpoint = clients.contentEndpoint;
  const client = clients.content();
  const chunkBytes = options.chunkBytes ?? UPLOAD_CHUNK_BYTES;
  const uploadId = uploadIdFor(digest);
  const state = await committedSize(client, endpoint, uploadId);
  if (state.complete) {
    options.onProgress?.(digest.size);
    return { uploadId, deduplicated: false, resumedFrom: digest.size, sentBytes: 0 };
  }
  const resumedFrom = state.offset;
  let answered = false;
  let settle!: { resolve: (r: content.UploadBlobResponse) => void; reject: (e: unknown) => void };
  const response = new Promise<content.UploadBlobResponse>((resolve, reject) => {
    settle = { resolve, reject };
  });
  // A refusal can come while the file is still being read: it is thrown by the await below, not left unhandled.
  response.catch(() => undefined);
  const call = clients.uploads().uploadBlob(options.metadata, undefined, (err: ServiceError | null, res?: content.UploadBlobResponse) => {
    answered = true;
    if (err) settle.reject(toCliError(err, endpoint));
    else settle.resolve(res!);
  });
  let offset = resumedFrom;
  let sent = 0;
  const start: content.UploadStart = { uploadId, storageName: '', sha256: digest.sha256, size: digest.size };
  let first = true;
  const send = async (data: Buffer, finishWrite: boolean): Promise<void> => {
    const message: content.UploadBlobRequest = { start: first ? start : undefined, offset, data, finishWrite };
    first = false;
    offset += data.length;
    sent += data.length;
    if (!call.write(message)) {
      await Promise.race([once(call, 'drain'), response.catch(() => undefined)]);
    }
    options.onProgress?.(offset);
  };
  try {
    if (offset >= digest.size) {
      await send(Buffer.alloc(0), true);
    } else {
      const reader = createReadStream(path, { start: offset, highWaterMark: chunkBytes });
      for await (const chunk of reader) {
        if (answered) break; // deduplicated (or refused): the store needs no more bytes
        const buf = chunk as Buffer;
        for (let i = 0; i < buf.length && !answered; i += chunkBytes) {
          const part = buf.subarray(i, Math.min(buf.length, i + chunkBytes));
          await send(part, offset + part.length >= digest.size);
        }
      }
      reader.destroy();
    }
  } finally {
    call.end();
  }
  const res = await response;
  if (!res.complete) {
    throw new CliError(`the content store did not commit the upload (committed ${res.committedSize} of ${digest.size} bytes); run the command again to resume`);
  }
  return { uploadId, deduplicated: res.deduplicated, resumedFrom, sentBytes: res.deduplicated ? 0 : sent };
}

/**
 * Streams bytes from the content store, calling `onData` for each chunk in order.
 *
 * @param client - The content store client.
 * @param endpoint - The content store, for error messages.
 * @param request - What to read.
 * @param onData - Receives each chunk; may return a promise to apply backpressure.
 * @param metadata - Call metadata.
 * @returns The number of bytes read.
 */
export async function readContent(
  client: content.ContentServiceClient,
  endpoint: Endpoint,
  request: content.ReadContentRequest,
  onData: (chunk: Buffer) => void | Promise<void>,
  metadata?: Metadata,
): Promise<number> {
  const stream = metadata ? client.readContent(request, metadata) : client.readContent(request);
  let total = 0;
  try {
    for await (const message of stream) {
      const data = (message as content.ReadContentResponse).data;
      total += data.length;
      await onData(data);
    }
  } catch (err: unknown) {
    stream.cancel();
    throw toCliError(err, endpoint);
  }
  return total;
}
