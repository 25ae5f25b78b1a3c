/**
 * Page sizes and opaque page tokens bound to the query that issued them: a
 * token carries a hash of the filters, and a token from another query is
 * INVALID_ARGUMENT rather than a silently wrong page. Tokens are signed with
 * an HMAC-SHA-256 under the deployment's page-token key, so a token that was
 * not issued by this deployment (forged, altered, or from another one) is
 * INVALID_ARGUMENT INVALID_PAGE_TOKEN before its cursor reaches a query.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { ConfigError, type Parser } from './config';
import { invalidField } from './errors';

/** Bounds of a list's page size. */
export interface PageSizeBounds {
  /** The size of a page when the caller asks 0. */
  defaultSize: number;
  /** Larger requests are lowered to this. */
  maxSize: number;
}

/** The page size to use: 0 is the default, too large is lowered, negative is INVALID_ARGUMENT. */
export function resolvePageSize(requested: number, bounds: PageSizeBounds): number {
  if (!Number.isInteger(requested) || requested < 0) {
    throw invalidField('page_size', 'INVALID_PAGE_SIZE', `must be 0 (the default, ${bounds.defaultSize}) or a positive number, not ${requested}`);
  }
  if (requested === 0) return bounds.defaultSize;
  return Math.min(requested, bounds.maxSize);
}

/** A stable fingerprint of a query's filters (key order does not matter). */
export function queryFingerprint(query: unknown): string {
  return createHash('sha256').update(stableJson(query)).digest('base64url').slice(0, 22);
}

/** Serializes JSON with object keys sorted, recursively. */
export function stableJson(value: unknown): string {
  if (value === undefined) return 'null';
  if (value instanceof Date) return JSON.stringify(value.toISOString());
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** Shortest page-token key, in bytes. */
export const PAGE_TOKEN_KEY_MIN_BYTES = 32;

/** Longest page token looked at; issued tokens are a few hundred characters. */
const MAX_PAGE_TOKEN_LENGTH = 4096;

/** Separates the signed part from the signature; not a base64url character. */
const SEPARATOR = '.';

const NOT_OURS = 'is not a page token issued by this service';

/**
 * Issues and reads the page tokens of one deployment: `base64url(JSON
 * {v, q, c}) "." base64url(HMAC-SHA-256(key, first part))`, where `q` is the
 * query's fingerprint and `c` the cursor. Replicas that share the key accept
 * each other's tokens.
 */
export class PageTokens {
  private readonly key: Buffer;

  /** @param key - The deployment's key, at least {@link PAGE_TOKEN_KEY_MIN_BYTES} bytes. */
  constructor(key: Uint8Array) {
    if (key.length < PAGE_TOKEN_KEY_MIN_BYTES) throw new RangeError(`a page-token key needs at least ${PAGE_TOKEN_KEY_MIN_BYTES} bytes, got ${key.length}`);
    this.key = Buffer.from(key);
  }

  /** Makes the opaque token of the page after `cursor` for this query. */
  encode(query: unknown, cursor: unknown): string {
    const body = Buffer.from(JSON.stringify({ v: 2, q: queryFingerprint(query), c: cursor })).toString('base64url');
    return `${body}${SEPARATOR}${this.mac(body).toString('base64url')}`;
  }

  /**
   * Reads a page token; undefined for the first page (empty token).
   * @throws INVALID_ARGUMENT INVALID_PAGE_TOKEN when the token was not issued
   *   by this deployment (its signature does not verify) or is malformed,
   *   PAGE_TOKEN_QUERY_MISMATCH when it was issued for another query.
   */
  decode<C>(token: string, query: unknown): C | undefined {
    if (token === '') return undefined;
    const dot = token.indexOf(SEPARATOR);
    if (token.length > MAX_PAGE_TOKEN_LENGTH || dot <= 0) throw invalidField('page_token', 'INVALID_PAGE_TOKEN', NOT_OURS);
    const body = token.slice(0, dot);
    const signature = Buffer.from(token.slice(dot + 1), 'base64url');
    const expected = this.mac(body);
    // Compared before anything of the body is read; base64url decoding ignores stray characters, so compare the text too.
    if (signature.length !== expected.length || !timingSafeEqual(signature, expected) || token.slice(dot + 1) !== expected.toString('base64url')) {
      throw invalidField('page_token', 'INVALID_PAGE_TOKEN', NOT_OURS);
    }
    let parsed: { v?: unknown; q?: unknown; c?: unknown };
    try {
      parsed = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as typeof parsed;
    } catch {
      throw invalidField('page_token', 'INVALID_PAGE_TOKEN', NOT_OURS);
    }
    if (parsed === null || typeof parsed !== 'object' || parsed.v !== 2 || typeof parsed.q !== 'string' || parsed.c === undefined) {
      throw invalidField('page_token', 'INVALID_PAGE_TOKEN', NOT_OURS);
    }
    if (parsed.q !== queryFingerprint(query)) {
      throw invalidField('page_token', 'PAGE_TOKEN_QUERY_MISMATCH', 'was issued for a different query; send the same filters as the call that returned it, or no token for the first page');
    }
    return parsed.c as C;
  }

  private mac(body: string): Buffer {
    return createHmac('sha256', this.key).update('griot.page-token.v2\n').update(body).digest();
  }
}

/**
 * A configuration parser of an optional page-token key (REGISTRY_PAGE_TOKEN_KEY,
 * CONTENT_PAGE_TOKEN_KEY): unset or empty is undefined (the key kept in the
 * service's database is used), otherwise at least
 * {@link PAGE_TOKEN_KEY_MIN_BYTES} bytes of UTF-8 text, used as it is.
 */
export function pageTokenKeyVar(): Parser<Buffer | undefined> {
  return (raw, name) => {
    if (raw === undefined || raw.trim() === '') return undefined;
    const key = Buffer.from(raw, 'utf8');
    if (key.length < PAGE_TOKEN_KEY_MIN_BYTES) {
      throw new ConfigError(name, `must be at least ${PAGE_TOKEN_KEY_MIN_BYTES} bytes (for example: openssl rand -base64 32), got ${key.length}`);
    }
    return key;
  };
}
