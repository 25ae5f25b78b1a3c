/**
 * SQLSTATE translation: the repository layer turns constraint violations into
 * typed errors so that callers never see a driver error.
 */
import { alreadyExists, failedPrecondition } from '@griot/server-kit';

/** Rethrows unique (23505) and foreign-key (23503) violations as GriotErrors; anything else unchanged. */
export function translateSqlError(err: unknown, what: { type: string; name: string }): never {
  const code = typeof err === 'object' && err !== null ? (err as { code?: unknown }).code : undefined;
  if (code === '23505') throw alreadyExists(what.type, what.name, `${what.type} ${what.name} already exists`);
  if (code === '23503') throw failedPrecondition('REFERENCED_ROW_MISSING', `${what.type} ${what.name} refers to something that does not exist`);
  throw err;
}
