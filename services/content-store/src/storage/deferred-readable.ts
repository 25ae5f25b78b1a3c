/**
 * A Readable returned at once whose bytes come from an asynchronous source:
 * the interface's read methods return streams synchronously, but a backend
 * must first look the blob up (size, range check) before streaming it.
 */
import { Readable } from 'node:stream';

/** Default buffering of streams handed to callers: 1 MiB, for throughput. */
export const READ_HIGH_WATER_MARK = 1024 * 1024;

/**
 * Wraps an async generator of byte chunks in a byte-mode Readable. Errors
 * thrown by the generator (including before the first chunk) become the
 * stream's 'error'; destroying the stream stops the generator.
 *
 * @param source - Produces the chunks; runs only when the stream is read.
 * @param highWaterMark - Buffering, in bytes.
 */
export function deferredReadable(
  source: () => AsyncGenerator<Uint8Array, void, undefined>,
  highWaterMark: number = READ_HIGH_WATER_MARK,
): Readable {
  return Readable.from(source(), { objectMode: false, highWaterMark });
}
