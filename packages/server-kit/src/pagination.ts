/**
 * Page sizes and opaque page tokens bound to the query that issued them: a
 * token carries a hash of the filters, and a token from another query is
 * INVALID_ARGUMENT rather than a silently wrong page.
 */
import { createHash } from 'node:crypto';
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

/** Makes the opaque token of the page after `cursor` for this query. */
export function encodePageToken(query: unknown, cursor: unknown): string {
  return Buffer.from(JSON.stringify({ v: 1, q: queryFingerprint(query), c: cursor })).toString('base64url');
}

/**
 * Reads a page token; undefined for the first page (empty token).
 * @throws INVALID_ARGUMENT when the token is malformed or was issued for another query.
 */
export function decodePageToken<C>(token: string, query: unknown): C | undefined {
  if (token === '') return undefined;
  let parsed: { v?: unknown; q?: unknown; c?: unknown };
  try {
    parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as typeof parsed;
  } catch {
    throw invalidField('page_token', 'INVALID_PAGE_TOKEN', 'is not a page token issued by this service');
  }
  if (parsed === null || typeof parsed !== 'object' || parsed.v !== 1 || typeof parsed.q !== 'string' || parsed.c === undefined) {
    throw invalidField('page_token', 'INVALID_PAGE_TOKEN', 'is not a page token issued by this service');
  }
  if (parsed.q !== queryFingerprint(query)) {
    throw invalidField('page_token', 'PAGE_TOKEN_QUERY_MISMATCH', 'was issued for a different query; send the same filters as the call that returned it, or no token for the first page');
  }
  return parsed.c as C;
}
