/**
 * Shapes of the identifiers the registry accepts: package ids (SHA-256 hex)
 * and job ids (UUIDs). Each check throws INVALID_ARGUMENT naming the field.
 */
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
