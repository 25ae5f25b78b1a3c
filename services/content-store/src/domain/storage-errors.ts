/**
 * Maps the storage backends' typed errors to {@link GriotError}s, once, so
 * that the domain layer throws only errors the edge understands.
 */
import { Code, GriotError } from '@griot/server-kit';
import { StorageError, UnknownStorageError } from '../storage/errors';

/**
 * Returns the {@link GriotError} for a storage error (an unknown storage is
 * the caller's mistake: INVALID_ARGUMENT listing the configured ones), or the
 * error unchanged when it is not a storage error.
 */
export function fromStorageError(err: unknown, field = 'storage_name'): unknown {
  if (err instanceof UnknownStorageError) {
    const known = err.knownNames.join(', ');
    return new GriotError(Code.INVALID_ARGUMENT, 'UNKNOWN_STORAGE', `${field}: unknown storage ${JSON.stringify(err.storageName)}; configured storages: ${known}`, {
      fieldViolations: [{ field, description: `is not a configured storage (configured: ${known})` }],
      metadata: { storageName: err.storageName, knownStorages: known },
    });
  }
  if (err instanceof StorageError) {
    const metadata: Record<string, string | number> = {};
    for (const [key, value] of Object.entries(err)) {
      if (typeof value === 'string' || typeof value === 'number') metadata[key] = value;
    }
    return new GriotError(Code[err.code], err.reason, err.message, { metadata, cause: err });
  }
  const systemCode = (err as { code?: unknown } | null)?.code;
  if (systemCode === 'ENOSPC' || systemCode === 'EDQUOT') {
    return new GriotError(
      Code.RESOURCE_EXHAUSTED,
      'STORAGE_FULL',
      `the storage has no space left (${systemCode}); nothing past the last committed size was kept: retry, or resume the upload, once space is freed`,
      { metadata: { errno: systemCode }, cause: err },
    );
  }
  if (systemCode === 'EMFILE' || systemCode === 'ENFILE') {
    return new GriotError(
      Code.RESOURCE_EXHAUSTED,
      'TOO_MANY_OPEN_FILES',
      `the content store has run out of open files (${systemCode}); nothing was lost: retry, or resume the upload, in a few seconds`,
      { metadata: { errno: systemCode, retryAfterSeconds: 5 }, cause: err },
    );
  }
  return err;
}

/** Runs `fn`, mapping storage errors. */
export async function withStorageErrors<T>(fn: () => Promise<T>, field?: string): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw fromStorageError(err, field);
  }
}
