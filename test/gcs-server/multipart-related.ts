/**
 * The `multipart/related` body of a multipart upload: a JSON metadata part,
 * then the media part.
 */
import { badRequest } from './gcs-error';

/** The two parts of a multipart upload. */
export interface MultipartUpload {
  /** The object resource sent as the first part. */
  metadata: Record<string, unknown>;
  /** The `Content-Type` of the media part. */
  contentType: string | undefined;
  /** The object's bytes. */
  media: Buffer;
}

/**
 * Splits a `multipart/related` body into its metadata and media parts.
 *
 * @param contentType - The request's `Content-Type` header (carries the boundary).
 * @param body - The whole request body.
 * @throws GcsHttpError 400 when the body is not a two-part multipart/related body.
 */
export function parseMultipartRelated(contentType: string | undefined, body: Buffer): MultipartUpload {
  const boundary = /boundary="?([^";]+)"?/i.exec(contentType ?? '')?.[1];
  if (!contentType?.toLowerCase().startsWith('multipart/related') || !boundary) {
    throw badRequest('Multipart upload needs a multipart/related body with a boundary.');
  }
  const delimiter = Buffer.from(`--${boundary}`);
  const parts: Array<{ headers: Map<string, string>; body: Buffer }> = [];
  let at = body.indexOf(delimiter);
  while (at !== -1) {
    const start = at + delimiter.length;
    if (body.subarray(start, start + 2).toString() === '--') break;
    const next = body.indexOf(delimiter, start);
    if (next === -1) throw badRequest('Multipart body is not terminated.');
    parts.push(parsePart(body.subarray(start, next)));
    at = next;
  }
  if (parts.length !== 2) throw badRequest(`Multipart upload needs 2 parts, got ${parts.length}.`);
  const [meta, media] = parts as [(typeof parts)[0], (typeof parts)[0]];
  let metadata: unknown;
  try {
    metadata = JSON.parse(meta.body.toString('utf8') || '{}');
  } catch {
    throw badRequest('The metadata part is not JSON.');
  }
  return { metadata: metadata as Record<string, unknown>, contentType: media.headers.get('content-type'), media: media.body };
}

function parsePart(raw: Buffer): { headers: Map<string, string>; body: Buffer } {
  // A part is CRLF, headers, CRLF CRLF, body, CRLF (before the next delimiter).
  const text = raw.subarray(0, Math.min(raw.length, 8192)).toString('latin1');
  const headerEnd = text.indexOf('\r\n\r\n');
  if (headerEnd === -1) throw badRequest('A multipart part has no header block.');
  const headers = new Map<string, string>();
  for (const line of text.slice(0, headerEnd).split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
  let body = raw.subarray(headerEnd + 4);
  if (body.subarray(body.length - 2).toString() === '\r\n') body = body.subarray(0, body.length - 2);
  return { headers, body };
}
