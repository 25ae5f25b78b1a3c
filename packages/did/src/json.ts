import canonicalize from 'canonicalize';

/** A JSON object as read from or written to the wire. */
export type JsonObject = { [key: string]: unknown };

/**
 * Tells whether a value is a JSON object (not null, not an array).
 *
 * @param value - Any value.
 */
export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Canonicalises a JSON value with the JSON Canonicalization Scheme (RFC 8785).
 *
 * @param value - A JSON-compatible value.
 * @returns The canonical UTF-8 text.
 * @throws Error when the value has no JSON form (undefined, NaN, Infinity, a function).
 */
export function canonicalizeJson(value: unknown): string {
  const text = canonicalize(value);
  if (text === undefined) {
    throw new Error(`a ${typeof value} value has no JSON form`);
  }
  return text;
}
