/**
 * The `Range: bytes=...` request header of media downloads.
 */
import { GcsHttpError } from './gcs-error';

/** An inclusive byte range within an object. */
export interface InclusiveRange {
  /** First byte. */
  start: number;
  /** Last byte, inclusive. */
  end: number;
}

/**
 * Resolves a `Range` header against an object size. Returns undefined when
 * there is no (usable) header, meaning the whole object.
 *
 * @param header - The raw `Range` header, if any.
 * @param size - The object size.
 * @throws GcsHttpError 416 when the range starts at or past the end.
 */
export function parseRangeHeader(header: string | undefined, size: number): InclusiveRange | undefined {
  const match = header === undefined ? null : /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!match || (match[1] === '' && match[2] === '')) return undefined;
  if (match[1] === '') {
    // Suffix range: the last N bytes.
    const suffix = Number(match[2]);
    if (suffix === 0 || size === 0) throw unsatisfiable();
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(match[1]);
  const end = match[2] === '' ? size - 1 : Math.min(Number(match[2]), size - 1);
  if (start >= size || end < start) throw unsatisfiable();
  return { start, end };
}

function unsatisfiable(): GcsHttpError {
  return new GcsHttpError(416, 'requestedRangeNotSatisfiable', 'The requested range cannot be satisfied.');
}
