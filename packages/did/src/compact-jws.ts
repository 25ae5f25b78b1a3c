import { TokenError } from './token-error';

/** Base64url without padding, as JWS uses (RFC 7515 §2). */
const BASE64URL = /^[A-Za-z0-9_-]*$/;

/** A compact JWS split into its parts. */
export interface CompactJws {
  /** The decoded protected header. */
  readonly header: Record<string, unknown>;
  /** The decoded payload. */
  readonly payload: Record<string, unknown>;
  /** The bytes the signature covers: ASCII `base64url(header).base64url(payload)`. */
  readonly signingInput: Buffer;
  /** The decoded signature; empty for an unsecured (`alg: none`) token. */
  readonly signature: Buffer;
}

/**
 * Encodes a JSON value as unpadded base64url.
 *
 * @param value - A JSON-compatible value.
 */
export function encodeJsonPart(value: unknown): string {
  return Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');
}

/**
 * Strictly decodes unpadded base64url: node's decoder skips bad characters,
 * so the alphabet and the round trip are checked to keep one token one string.
 */
function decodeBase64url(part: string, what: string, allowEmpty = false): Buffer {
  const bytes = Buffer.from(part, 'base64url');
  if ((part.length === 0 && !allowEmpty) || !BASE64URL.test(part) || bytes.toString('base64url') !== part) {
    throw new TokenError('MALFORMED_TOKEN', `token ${what} is not canonical base64url`);
  }
  return bytes;
}

function decodeJsonPart(part: string, what: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(decodeBase64url(part, what).toString('utf8'));
  } catch (err: unknown) {
    if (err instanceof TokenError) throw err;
    throw new TokenError('MALFORMED_TOKEN', `token ${what} is not JSON`, { cause: err });
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new TokenError('MALFORMED_TOKEN', `token ${what} must be a JSON object`);
  }
  return value as Record<string, unknown>;
}

/**
 * Splits and decodes a compact JWS (`header.payload.signature`) without
 * verifying it.
 *
 * @param token - The compact serialisation.
 * @param maxLength - Longest token accepted, in characters.
 * @throws {@link TokenError} `MALFORMED_TOKEN`.
 */
export function decodeCompactJws(token: string, maxLength: number): CompactJws {
  if (typeof token !== 'string') {
    throw new TokenError('MALFORMED_TOKEN', `token must be a string, got ${typeof token}`);
  }
  if (token.length > maxLength) {
    throw new TokenError('MALFORMED_TOKEN', `token is ${token.length} characters, at most ${maxLength} allowed`);
  }
  const parts = token.split('.');
  if (parts.length !== 3) {
    throw new TokenError('MALFORMED_TOKEN', `token must have 3 dot-separated parts, got ${parts.length}`);
  }
  const [header, payload, signature] = parts as [string, string, string];
  return {
    header: decodeJsonPart(header, 'header'),
    payload: decodeJsonPart(payload, 'payload'),
    signingInput: Buffer.from(`${header}.${payload}`, 'ascii'),
    // An empty signature (alg "none") decodes, so the verifier can name the algorithm as the problem.
    signature: decodeBase64url(signature, 'signature', true),
  };
}
