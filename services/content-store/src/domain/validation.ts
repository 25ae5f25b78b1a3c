/**
 * Checks of request values shared by every operation: UUIDs, digests, and
 * JSON objects (tags, serializer configurations). Each failure is
 * INVALID_ARGUMENT naming the field.
 */
import { invalidField } from '@griot/server-kit';

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

function show(value: string): string {
  return JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}…` : value);
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
  if (!SHA256.test(value)) throw invalidField(field, 'INVALID_SHA256', `is not a SHA-256 digest (64 lowercase hexadecimal characters): ${show(value)}`);
  return value;
}

/** An optional SHA-256 digest: undefined when empty. */
export function optionalSha256(field: string, value: string): string | undefined {
  return value === '' ? undefined : requireSha256(field, value);
}

/** A required non-empty string. */
export function requireText(field: string, value: string, maxLength = 1024): string {
  if (value === '') throw invalidField(field, 'MISSING_FIELD', 'is required');
  if (value.length > maxLength) throw invalidField(field, 'TOO_LONG', `is longer than ${maxLength} characters`);
  if (value.includes('\u0000')) throw invalidField(field, 'INVALID_CHARACTER', 'contains a NUL character');
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
