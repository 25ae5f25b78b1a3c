/**
 * The checks of request values both services share, with one set of
 * ErrorInfo reasons: an empty required field is MISSING_FIELD; a value of the
 * wrong shape is INVALID_SHA256, INVALID_UUID or INVALID_DID; text too long
 * is TOO_LONG, text with a NUL (which PostgreSQL text cannot hold) is
 * INVALID_CHARACTER; a bad JSON object is NOT_A_JSON_OBJECT,
 * INVALID_JSON_VALUE, JSON_TOO_DEEP or JSON_TOO_LARGE. Each failure is
 * INVALID_ARGUMENT with a BadRequest field violation naming the field.
 */
import { DidError, parseDid } from '@griot/did';
import { invalidField } from './errors';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const SHA256 = /^[0-9a-f]{64}$/;

/** Limits of a JSON object from a request. */
export interface JsonLimits {
  /** Deepest nesting of objects and lists. */
  maxDepth: number;
  /** Largest serialized size, in bytes. */
  maxBytes: number;
}

/** Default limits: 16 levels (protobuf decoding stops near 32 levels of Struct anyway), 64 KiB. */
export const DEFAULT_JSON_LIMITS: JsonLimits = { maxDepth: 16, maxBytes: 64 * 1024 };

/** Cuts long user input down for messages. */
export function shorten(value: string, max = 80): string {
  return value.length > max ? `${value.slice(0, max)}…` : value;
}

function show(value: string): string {
  return JSON.stringify(shorten(value));
}

/** True when `value` is a SHA-256 digest as 64 lowercase hexadecimal characters. */
export function isSha256Hex(value: string): boolean {
  return SHA256.test(value);
}

/** A required UUID, lowercased. @throws INVALID_ARGUMENT (MISSING_FIELD or INVALID_UUID). */
export function requireUuid(field: string, value: string): string {
  if (value === '') throw invalidField(field, 'MISSING_FIELD', 'is required (a UUID)');
  if (!UUID.test(value)) throw invalidField(field, 'INVALID_UUID', `is not a UUID: ${show(value)}`);
  return value.toLowerCase();
}

/** An optional UUID: undefined when empty. */
export function optionalUuid(field: string, value: string): string | undefined {
  return value === '' ? undefined : requireUuid(field, value);
}

/** A required SHA-256 digest. @throws INVALID_ARGUMENT (MISSING_FIELD or INVALID_SHA256). */
export function requireSha256(field: string, value: string): string {
  if (value === '') throw invalidField(field, 'MISSING_FIELD', 'is required (64 lowercase hexadecimal characters)');
  if (!isSha256Hex(value)) throw invalidField(field, 'INVALID_SHA256', `is not a SHA-256 digest (64 lowercase hexadecimal characters): ${show(value)}`);
  return value;
}

/** An optional SHA-256 digest: undefined when empty. */
export function optionalSha256(field: string, value: string): string | undefined {
  return value === '' ? undefined : requireSha256(field, value);
}

/** A required non-empty string. @throws INVALID_ARGUMENT (MISSING_FIELD, TOO_LONG or INVALID_CHARACTER). */
export function requireText(field: string, value: string, maxLength = 1024): string {
  if (value === '') throw invalidField(field, 'MISSING_FIELD', 'is required');
  return requireNoNul(field, requireMaxLength(field, value, maxLength));
}

/**
 * Text, possibly empty, of at most `maxLength` characters.
 * @throws INVALID_ARGUMENT TOO_LONG, with the length and the limit as metadata.
 */
export function requireMaxLength(field: string, value: string, maxLength: number): string {
  if (value.length > maxLength) {
    throw invalidField(field, 'TOO_LONG', `is ${value.length} characters long, at most ${maxLength} allowed`, { length: value.length, limit: maxLength });
  }
  return value;
}

/**
 * Free text, possibly empty, bound for a PostgreSQL text column, which cannot hold NUL.
 * @throws INVALID_ARGUMENT INVALID_CHARACTER.
 */
export function requireNoNul(field: string, value: string): string {
  if (value.includes('\u0000')) throw invalidField(field, 'INVALID_CHARACTER', 'contains a NUL character');
  return value;
}

/**
 * A required Ed25519 did:key.
 * @param what - What the field holds, for the message of an empty one (default `a did:key`).
 * @throws INVALID_ARGUMENT (MISSING_FIELD or INVALID_DID).
 */
export function requireDid(field: string, value: string, what = 'a did:key'): string {
  if (value === '') throw invalidField(field, 'MISSING_FIELD', `is required (${what})`);
  try {
    parseDid(value);
  } catch (err) {
    if (!(err instanceof DidError)) throw err;
    throw invalidField(field, 'INVALID_DID', `${show(value)} is not an Ed25519 did:key (${err.message})`);
  }
  return value;
}

/**
 * A JSON object from a request (a google.protobuf.Struct, decoded): undefined
 * is the empty object; anything but a plain object is NOT_A_JSON_OBJECT;
 * values must be representable in JSONB (finite numbers, strings without
 * NUL, every value set) within the depth and size limits.
 *
 * @throws INVALID_ARGUMENT naming the field and the path of the bad value.
 */
export function requireJsonObject(field: string, value: unknown, limits: JsonLimits = DEFAULT_JSON_LIMITS): Record<string, unknown> {
  if (value === undefined) return {};
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw invalidField(field, 'NOT_A_JSON_OBJECT', `must be a JSON object, not ${value === null ? 'null' : Array.isArray(value) ? 'a list' : typeof value}`);
  }
  checkJsonValue(field, value, 0, limits);
  const size = Buffer.byteLength(JSON.stringify(value));
  if (size > limits.maxBytes) {
    throw invalidField(field, 'JSON_TOO_LARGE', `is ${size} bytes as JSON; the limit is ${limits.maxBytes}`, { size, limit: limits.maxBytes });
  }
  return value as Record<string, unknown>;
}

function checkJsonValue(path: string, value: unknown, depth: number, limits: JsonLimits): void {
  if (value === null || typeof value === 'boolean') return;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw invalidField(path, 'INVALID_JSON_VALUE', `is ${value}; JSON numbers must be finite`);
    return;
  }
  if (typeof value === 'string') {
    if (value.includes('\u0000')) throw invalidField(path, 'INVALID_JSON_VALUE', 'contains a NUL character, which JSON in the database cannot hold');
    return;
  }
  if (value === undefined) throw invalidField(path, 'INVALID_JSON_VALUE', 'has no value (a google.protobuf.Value with no kind set)');
  if (typeof value !== 'object') throw invalidField(path, 'INVALID_JSON_VALUE', `is a ${typeof value}, not a JSON value`);
  if (depth >= limits.maxDepth) throw invalidField(path, 'JSON_TOO_DEEP', `nests deeper than ${limits.maxDepth} levels`);
  if (Array.isArray(value)) {
    value.forEach((item, i) => checkJsonValue(`${path}[${i}]`, item, depth + 1, limits));
    return;
  }
  for (const [key, item] of Object.entries(value as Record<string, unknown>)) {
    if (key.includes('\u0000')) throw invalidField(path, 'INVALID_JSON_VALUE', 'has a key with a NUL character');
    checkJsonValue(`${path}.${key}`, item, depth + 1, limits);
  }
}
