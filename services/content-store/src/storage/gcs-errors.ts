/**
 * Reading the client's errors: the JSON API calls fail with an `ApiError`
 * (`code` = HTTP status), resumable uploads with a `GaxiosError` (`status`),
 * network failures with a system error code.
 */
import { StorageError, StorageUnavailableError } from './errors';

/**
 * The HTTP status of a failed GCS call, if it got that far.
 *
 * @param err - Anything the client threw or emitted.
 */
export function gcsStatusOf(err: unknown): number | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const e = err as { code?: unknown; status?: unknown; response?: { status?: unknown } };
  if (typeof e.code === 'number') return e.code;
  if (typeof e.status === 'number') return e.status;
  if (typeof e.response?.status === 'number') return e.response.status;
  return undefined;
}

/**
 * Turns failures that retrying later may fix (5xx, 408, 429, network errors)
 * into {@link StorageUnavailableError}; returns anything else unchanged.
 *
 * @param storageName - The storage, for the error.
 * @param err - What the client threw.
 */
export function toStorageError(storageName: string, err: unknown): unknown {
  if (err instanceof StorageError) return err;
  const status = gcsStatusOf(err);
  const transient =
    status === undefined
      ? typeof (err as { code?: unknown } | null)?.code === 'string' && /^E[A-Z_]+$/.test((err as { code: string }).code)
      : status >= 500 || status === 408 || status === 429;
  return transient ? new StorageUnavailableError(storageName, err) : err;
}
