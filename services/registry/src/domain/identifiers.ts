/**
 * Shapes of the identifiers the registry accepts: package ids (SHA-256 hex),
 * job ids (UUIDs) and did:keys. Each check throws INVALID_ARGUMENT naming the field.
 */
import { DidError, parseDid } from '@griot/did';
import { invalidField } from '@griot/server-kit';

const SHA256_HEX = /^[0-9a-f]{64}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** True when `value` is 64 lowercase hexadecimal characters. */
export function isSha256Hex(value: string): boolean {
  return SHA256_HEX.test(value);
}

/**
 * Checks a package id.
 * @throws INVALID_ARGUMENT INVALID_PACKAGE_ID naming `field`.
 */
export function requirePackageId(value: string, field = 'package_id'): string {
  if (value === '') throw invalidField(field, 'INVALID_PACKAGE_ID', 'is required: the SHA-256 of the artifact as 64 lowercase hexadecimal characters');
  if (!isSha256Hex(value)) {
    throw invalidField(field, 'INVALID_PACKAGE_ID', `"${shorten(value)}" is not a SHA-256 as 64 lowercase hexadecimal characters`);
  }
  return value;
}

/**
 * Checks a job id.
 * @throws INVALID_ARGUMENT INVALID_JOB_ID naming `field`.
 */
export function requireJobId(value: string, field = 'job_id'): string {
  if (value === '') throw invalidField(field, 'INVALID_JOB_ID', 'is required: the job id (a UUID)');
  if (!UUID.test(value)) throw invalidField(field, 'INVALID_JOB_ID', `"${shorten(value)}" is not a UUID`);
  return value.toLowerCase();
}

/**
 * Checks an Ed25519 did:key given as a request field.
 * @param reason - The ErrorInfo reason (INVALID_NODE_ID for a node's, INVALID_DID otherwise).
 * @param what - What the field holds, for the message of an empty one.
 * @throws INVALID_ARGUMENT `reason` naming `field`.
 */
export function requireDid(value: string, field: string, reason = 'INVALID_DID', what = 'a did:key'): string {
  if (value === '') throw invalidField(field, reason, `is required: ${what}`);
  try {
    parseDid(value);
  } catch (err) {
    if (!(err instanceof DidError)) throw err;
    throw invalidField(field, reason, `"${shorten(value)}" is not an Ed25519 did:key: ${err.message}`);
  }
  return value;
}

/**
 * Checks free text bound for a PostgreSQL text column, which cannot hold NUL.
 * @throws INVALID_ARGUMENT INVALID_CHARACTER naming `field`.
 */
export function requireNoNul(value: string, field: string): string {
  if (value.includes('\u0000')) throw invalidField(field, 'INVALID_CHARACTER', 'contains a NUL character');
  return value;
}

/** Cuts long user input down for messages. */
export function shorten(value: string, max = 80): string {
  return value.length > max ? `${value.slice(0, max)}…` : value;
}
