/**
 * Reading from the content store as an async iterable of chunks: a dropped
 * stream is opened again after the bytes already received, and a whole blob
 * is checked against its SHA-256 before the last chunk is given out.
 */
import { createHash } from 'node:crypto';
import { status } from '@grpc/grpc-js';
import type { content } from '@griot/proto';
import { setCallStreamBuffer } from '@griot/transport';
import { attemptMetadata, backoffDelay, cancelledError, retryPolicyOf, sleep, type CallOptions, type CallSite } from './call';
import { GriotClientError, toGriotClientError } from './errors';

/** Options of a read. */
export type ReadOptions = Pick<CallOptions, 'identity' | 'metadata' | 'signal' | 'retry'>;

/** What a read needs of the content client. */
export interface ReadSource {
  readonly site: CallSite;
  readonly raw: content.ContentServiceClient;
}

/** ReadContent messages a download holds between the transport and its reader. */
const READ_BUFFER_MESSAGES = 2;

/**
 * Streams bytes from the content store. A stream that fails with a
 * retryable code after some bytes is opened again from the next byte (a read
 * is idempotent), so the chunks given out are never repeated or skipped.
 *
 * @param source - The content client.
 * @param request - What to read, from which offset, how much (limit 0: to the end).
 * @param options - The caller, cancellation and retries.
 * @throws {@link GriotClientError} for a refusal, or when the store stays unreachable.
 */
export async function* readContent(source: ReadSource, request: content.ReadContentRequest, options: ReadOptions = {}): AsyncGenerator<Buffer, void, undefined> {
  const { site, raw } = source;
  const policy = retryPolicyOf(site, options, true);
  let received = 0;
  for (let failures = 0; ; ) {
    if (options.signal?.aborted) throw cancelledError(site);
    const limit = request.limit > 0 ? request.limit - received : 0;
    const stream = raw.readContent({ ...request, offset: request.offset + received, limit }, attemptMetadata(site, options));
    // A caller slower than the store (an extraction, say) holds at most this many chunks here, not grpc-js's 16
    // (16 MiB of 1 MiB chunks); the HTTP/2 receive window holds back the rest.
    setCallStreamBuffer(stream, '_readableState', READ_BUFFER_MESSAGES);
    const abort = (): void => stream.cancel();
    options.signal?.addEventListener('abort', abort, { once: true });
    try {
      for await (const message of stream) {
        const data = (message as content.ReadContentResponse).data;
        if (data.length === 0) continue;
        received += data.length;
        failures = 0;
        yield data;
      }
      return;
    } catch (err: unknown) {
      if (options.signal?.aborted) throw cancelledError(site);
      const failure = toGriotClientError(err, { service: site.service, address: site.address });
      failures += 1;
      if (!(failure instanceof GriotClientError) || failures >= policy.maxAttempts || !policy.retryableCodes.includes(failure.code)) throw failure;
    } finally {
      options.signal?.removeEventListener('abort', abort);
      stream.cancel();
    }
    await sleep(backoffDelay(policy, failures), options.signal);
  }
}

/** Options of {@link download}. */
export interface DownloadOptions extends ReadOptions {
  /** The first byte to read (default 0). */
  readonly offset?: number;
  /** The most bytes to read (default 0: to the end). */
  readonly limit?: number;
  /** The storage to read from (default: the store's). */
  readonly storageName?: string;
}

/**
 * Downloads a blob by its SHA-256, whole or a range of it. A whole blob is
 * verified: its bytes must hash to `sha256`, or the last chunk is withheld
 * and the iteration fails with DATA_LOSS.
 *
 * @param source - The content client.
 * @param sha256 - The blob's SHA-256 (lowercase hex).
 * @param options - The range, the caller, cancellation and retries.
 */
export async function* download(source: ReadSource, sha256: string, options: DownloadOptions = {}): AsyncGenerator<Buffer, void, undefined> {
  const offset = options.offset ?? 0;
  const limit = options.limit ?? 0;
  const request: content.ReadContentRequest = { target: { $case: 'blob', blob: { sha256, storageName: options.storageName ?? '' } }, offset, limit };
  const chunks = readContent(source, request, options);
  if (offset !== 0 || limit !== 0) {
    yield* chunks;
    return;
  }
  const hash = createHash('sha256');
  let held: Buffer | undefined;
  for await (const chunk of chunks) {
    hash.update(chunk);
    if (held) yield held;
    held = chunk;
  }
  const actual = hash.digest('hex');
  if (actual !== sha256) {
    throw new GriotClientError({
      code: status.DATA_LOSS,
      details: `the content store sent bytes whose SHA-256 is ${actual}, not ${sha256}`,
      service: source.site.service,
      address: source.site.address,
    });
  }
  if (held) yield held;
}
