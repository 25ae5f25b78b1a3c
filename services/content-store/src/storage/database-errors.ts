/**
 * Translating database failures of the database storage: lost or refused
 * connections become {@link StorageUnavailableError}; anything else is a bug
 * or a schema problem and passes through.
 */
import { StorageError, StorageUnavailableError } from './errors';

/** SQLSTATEs that mean "the server cannot serve now": connection exceptions, shutdown, too many connections. */
const UNAVAILABLE_SQLSTATE = /^(08...|57P0[123]|53300)$/;

/**
 * Maps a failure of a query to a storage error where one applies.
 *
 * @param storageName - The storage, for the error.
 * @param err - What knex or pg threw.
 */
export function toStorageError(storageName: string, err: unknown): unknown {
  if (err instanceof StorageError || typeof err !== 'object' || err === null) return err;
  const { code, name } = err as { code?: unknown; name?: unknown };
  const unavailable =
    name === 'KnexTimeoutError' ||
    (typeof code === 'string' && (UNAVAILABLE_SQLSTATE.test(code) || /^E[A-Z_]+$/.test(code)));
  return unavailable ? new StorageUnavailableError(storageName, err) : err;
}
