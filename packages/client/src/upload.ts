/**
 * Resumable uploads to the content store: the file goes out in chunks with
 * backpressure through the copy-free UploadBlob client, and a failed attempt
 * is retried from what the store committed.
 */
import { createHash, randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { status } from '@grpc/grpc-js';
import type { content } from '@griot/proto';
import type { UploadBlobClient } from '@griot/transport';
import { attemptMetadata, backoffDelay, cancelledError, retryPolicyOf, sleep, type CallOptions, type CallSite } from './call';
import { GriotClientError, toGriotClientError } from './errors';

/** The largest chunk sent in one UploadBlob message. */
export const UPLOAD_CHUNK_BYTES = 1024 * 1024;

/** The SHA-256 and size of a blob. */
export interface BlobDigest {
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
export async function hashFile(path: string): Promise<BlobDigest> {
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
 * uploading the same bytes again, from any process, resumes an interrupted
 * upload of them.
 *
 * @param digest - The blob's SHA-256 and size.
 */
export function uploadIdFor(digest: BlobDigest): string {
  const b = createHash('sha256').update(`griot-upload:${digest.sha256}:${digest.size}`).digest().subarray(0, 16);
  b[6] = (b[6]! & 0x0f) | 0x80; // version 8: custom, name-based
  b[8] = (b[8]! & 0x3f) | 0x80; // RFC 4122 variant
  const hex = b.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** What an upload did. */
export interface UploadOutcome extends BlobDigest {
  /** The upload id. */
  readonly uploadId: string;
  /** True when the store already held the blob. */
  readonly deduplicated: boolean;
  /** The committed offset the last attempt continued from (0 for a fresh upload). */
  readonly resumedFrom: number;
  /** The bytes sent by the last attempt. */
  readonly sentBytes: number;
  /** The attempts made (1 when nothing failed). */
  readonly attempts: number;
}

/** Options of an upload. */
export interface UploadOptions extends Pick<CallOptions, 'identity' | 'metadata' | 'signal' | 'retry'> {
  /** The blob's SHA-256 (lowercase hex), when known; computed otherwise. */
  readonly sha256?: string;
  /** Its size in bytes, when known; computed otherwise. */
  readonly size?: number;
  /** Called with the bytes of the blob done so far (committed + sent). */
  readonly onProgress?: (done: number) => void;
  /** The largest chunk per message. */
  readonly chunkBytes?: number;
  /** The deadline of each attempt (default: none, as a large upload takes as long as it takes). */
  readonly deadlineMs?: number;
}

/**
 * The codes after which an upload is tried again from the committed offset.
 * CANCELLED is among them: a connection cut under a running call resets its
 * stream (HTTP/2 CANCEL), and a cancel of the caller's own is seen first.
 */
const UPLOAD_RETRY_CODES: readonly status[] = [status.UNAVAILABLE, status.INTERNAL, status.UNKNOWN, status.ABORTED, status.DEADLINE_EXCEEDED, status.CANCELLED];

/**
 * True when an attempt may be made again: a failure of the connection, or a
 * WRONG_OFFSET refusal (the store recorded more of a cut attempt after it
 * answered the status query: the next attempt asks again).
 */
function retryableUploadFailure(err: GriotClientError): boolean {
  return UPLOAD_RETRY_CODES.includes(err.code) || (err.code === status.OUT_OF_RANGE && err.reason === 'WRONG_OFFSET');
}

/** What the upload functions need of the content client. */
export interface UploadTarget {
  readonly site: CallSite;
  readonly uploads: UploadBlobClient;
  getUploadStatus(request: Partial<content.GetUploadStatusRequest>, options?: CallOptions): Promise<content.GetUploadStatusResponse>;
}

async function committed(target: UploadTarget, uploadId: string, options: UploadOptions): Promise<{ offset: number; complete: boolean }> {
  try {
    const res = await target.getUploadStatus({ uploadId }, { identity: options.identity, metadata: options.metadata, signal: options.signal, retry: options.retry });
    return { offset: res.committedSize, complete: res.complete };
  } catch (err: unknown) {
    if (err instanceof GriotClientError && err.code === status.NOT_FOUND) return { offset: 0, complete: false };
    throw err;
  }
}

/** One UploadBlob call from the committed offset to the end of the file. */
async function attempt(target: UploadTarget, path: string, digest: BlobDigest, uploadId: string, options: UploadOptions): Promise<Omit<UploadOutcome, 'attempts'>> {
  const { site } = target;
  const state = await committed(target, uploadId, options);
  const base = { ...digest, uploadId };
  if (state.complete) {
    options.onProgress?.(digest.size);
    return { ...base, deduplicated: false, resumedFrom: digest.size, sentBytes: 0 };
  }
  const chunkBytes = options.chunkBytes ?? UPLOAD_CHUNK_BYTES;
  const resumedFrom = state.offset;
  let answered = false;
  let settle!: { resolve: (r: content.UploadBlobResponse) => void; reject: (e: unknown) => void };
  const response = new Promise<content.UploadBlobResponse>((resolve, reject) => {
    settle = { resolve, reject };
  });
  // A refusal can come while the file is still being read: it is thrown by the await below, not left unhandled.
  response.catch(() => undefined);
  const deadline = options.deadlineMs === undefined ? undefined : new Date(Date.now() + options.deadlineMs);
  const call = target.uploads.uploadBlob(attemptMetadata(site, options), { deadline }, (err, res) => {
    answered = true;
    if (err) settle.reject(toGriotClientError(err, { service: site.service, address: site.address }));
    else settle.resolve(res!);
  });
  const cancel = (): void => call.cancel();
  options.signal?.addEventListener('abort', cancel, { once: true });
  let offset = resumedFrom;
  let sent = 0;
  let first = true;
  const start: content.UploadStart = { uploadId, storageName: '', sha256: digest.sha256, size: digest.size };
  const send = async (data: Buffer, finishWrite: boolean): Promise<void> => {
    const message: content.UploadBlobRequest = { start: first ? start : undefined, offset, data, finishWrite };
    first = false;
    offset += data.length;
    sent += data.length;
    if (!call.write(message)) await Promise.race([once(call, 'drain'), response.catch(() => undefined)]);
    options.onProgress?.(offset);
  };
  try {
    if (offset >= digest.size) {
      await send(Buffer.alloc(0), true);
    } else {
      const reader = createReadStream(path, { start: offset, highWaterMark: chunkBytes });
      try {
        for await (const chunk of reader) {
          if (answered) break; // deduplicated (or refused): the store needs no more bytes
          const buf = chunk as Buffer;
          for (let i = 0; i < buf.length && !answered; i += chunkBytes) {
            const part = buf.subarray(i, Math.min(buf.length, i + chunkBytes));
            await send(part, offset + part.length >= digest.size);
          }
        }
      } finally {
        reader.destroy();
      }
    }
  } finally {
    call.end();
  }
  try {
    const res = await response;
    if (!res.complete) {
      throw new GriotClientError({
        code: status.ABORTED,
        details: `the content store did not commit the upload (committed ${res.committedSize} of ${digest.size} bytes)`,
        service: site.service,
        address: site.address,
      });
    }
    return { ...base, deduplicated: res.deduplicated, resumedFrom, sentBytes: res.deduplicated ? 0 : sent };
  } finally {
    options.signal?.removeEventListener('abort', cancel);
  }
}

/**
 * Uploads a file as a blob. An attempt cut short (an unreachable store, a
 * dropped connection) is retried with backoff from the offset the store
 * committed; a store that already holds the digest takes no bytes.
 *
 * @param target - The content client.
 * @param path - The file.
 * @param options - Its digest when known, the caller, progress, retries.
 * @throws {@link GriotClientError} when the store refuses the upload, or stays unreachable.
 */
export async function uploadFile(target: UploadTarget, path: string, options: UploadOptions = {}): Promise<UploadOutcome> {
  const digest = options.sha256 !== undefined && options.size !== undefined ? { sha256: options.sha256, size: options.size } : await hashFile(path);
  const uploadId = uploadIdFor(digest);
  const policy = retryPolicyOf(target.site, options, true);
  for (let n = 1; ; n += 1) {
    if (options.signal?.aborted) throw cancelledError(target.site);
    try {
      return { ...(await attempt(target, path, digest, uploadId, options)), attempts: n };
    } catch (err: unknown) {
      if (options.signal?.aborted) throw cancelledError(target.site);
      if (!(err instanceof GriotClientError) || n >= policy.maxAttempts || !retryableUploadFailure(err)) throw err;
      await sleep(backoffDelay(policy, n), options.signal);
    }
  }
}

/**
 * Uploads what a stream gives. The bytes are first written to a temporary
 * file (hashed on the way), so that a failed attempt can resume from the
 * committed offset as {@link uploadFile} does; a `sha256` or `size` given is
 * checked against what the stream held before anything is sent.
 *
 * @param target - The content client.
 * @param source - The bytes.
 * @param options - The expected digest, the caller, progress, retries.
 * @throws {@link GriotClientError} INVALID_ARGUMENT when the stream does not match the given digest or size.
 */
export async function uploadStream(target: UploadTarget, source: Readable | AsyncIterable<Uint8Array>, options: UploadOptions = {}): Promise<UploadOutcome> {
  const dir = await mkdtemp(join(tmpdir(), 'griot-upload-'));
  try {
    const file = join(dir, randomUUID());
    const hash = createHash('sha256');
    let size = 0;
    await pipeline(
      source,
      async function* (chunks: AsyncIterable<Uint8Array>) {
        for await (const chunk of chunks) {
          hash.update(chunk);
          size += chunk.length;
          yield chunk;
        }
      },
      createWriteStream(file),
    );
    const sha256 = hash.digest('hex');
    const mismatch =
      options.sha256 !== undefined && options.sha256 !== sha256
        ? `the stream's SHA-256 is ${sha256}, not ${options.sha256}`
        : options.size !== undefined && options.size !== size
          ? `the stream held ${size} bytes, not ${options.size}`
          : undefined;
    if (mismatch) throw new GriotClientError({ code: status.INVALID_ARGUMENT, details: mismatch, service: target.site.service, address: target.site.address });
    return await uploadFile(target, file, { ...options, sha256, size });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
