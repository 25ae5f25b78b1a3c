/**
 * Resolving a requested {@link ByteRange} against a blob's size.
 */
import type { ByteRange } from './blob-store';
import { InvalidRangeError, RangeNotSatisfiableError } from './errors';

/** A concrete slice of a blob: `length` bytes from `start`. */
export interface ResolvedRange {
  /** First byte. */
  start: number;
  /** Number of bytes (0 for an empty read at the end). */
  length: number;
}

/**
 * Checks a range and clips it to the blob: an offset equal to the size is an
 * empty read, an offset past it is an error, a length past the end is cut.
 *
 * @param range - The requested range; undefined means the whole blob.
 * @param size - The blob's size.
 * @throws InvalidRangeError for negative or non-integer values.
 * @throws RangeNotSatisfiableError when the offset is past the end.
 */
export function resolveRange(range: ByteRange | undefined, size: number): ResolvedRange {
  const offset = range?.offset ?? 0;
  const length = range?.length;
  if (!Number.isSafeInteger(offset) || offset < 0 || (length !== undefined && (!Number.isSafeInteger(length) || length < 0))) {
    throw new InvalidRangeError(offset, length);
  }
  if (offset > size) throw new RangeNotSatisfiableError(offset, size);
  return { start: offset, length: Math.min(length ?? size - offset, size - offset) };
}

