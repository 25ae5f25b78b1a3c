/**
 * The errors the storage backends throw on purpose. Each carries `code` (the
 * canonical gRPC status name the edge maps it to), an UPPER_SNAKE `reason`
 * and the dynamic values as fields; messages are for people, never parsed.
 */

/** Canonical gRPC status names the storage errors map to. */
export type StorageErrorCode =
  | 'INVALID_ARGUMENT'
  | 'NOT_FOUND'
  | 'OUT_OF_RANGE'
  | 'FAILED_PRECONDITION'
  | 'RESOURCE_EXHAUSTED'
  | 'UNAVAILABLE';

/** Base class of every storage error: `err instanceof StorageError` catches them all. */
export abstract class StorageError extends Error {
  /** The canonical gRPC status name. */
  abstract readonly code: StorageErrorCode;
  /** Machine-readable reason, UPPER_SNAKE. */
  abstract readonly reason: string;

  /**
   * @param message - Human-readable explanation.
   * @param options - Optional `cause` (the lower-level error).
   */
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The storage does not hold a blob with this digest. */
export class BlobNotFoundError extends StorageError {
  readonly code = 'NOT_FOUND';
  readonly reason = 'BLOB_NOT_FOUND';

  /**
   * @param storageName - The storage asked.
   * @param sha256 - The missing digest.
   */
  constructor(
    readonly storageName: string,
    readonly sha256: string,
  ) {
    super(`Blob ${sha256} not found in ${storageName}.`);
  }
}

/** A read starts past the end of the blob. */
export class RangeNotSatisfiableError extends StorageError {
  readonly code = 'OUT_OF_RANGE';
  readonly reason = 'OUT_OF_RANGE';

  /**
   * @param offset - The requested offset.
   * @param size - The blob's size.
   */
  constructor(
    readonly offset: number,
    readonly size: number,
  ) {
    super(`Offset ${offset} is past the end of a ${size}-byte blob.`);
  }
}

/** A range with a negative or non-integer offset or length. */
export class InvalidRangeError extends StorageError {
  readonly code = 'INVALID_ARGUMENT';
  readonly reason = 'INVALID_RANGE';

  /**
   * @param offset - The requested offset.
   * @param length - The requested length, if any.
   */
  constructor(
    readonly offset: number,
    readonly length: number | undefined,
  ) {
    super(`Invalid range: offset ${offset}, length ${length ?? '(to the end)'}; both must be non-negative integers.`);
  }
}

/** A blob would exceed the size limit of the storage (the database storage's inline limit). */
export class BlobTooLargeError extends StorageError {
  readonly code = 'RESOURCE_EXHAUSTED';
  readonly reason = 'BLOB_TOO_LARGE';

  /**
   * @param storageName - The storage whose limit applies.
   * @param limit - The limit in bytes.
   * @param size - The size the blob reached or declared.
   */
  constructor(
    readonly storageName: string,
    readonly limit: number,
    readonly size: number,
  ) {
    super(`${storageName} holds blobs of at most ${limit} bytes; this one reached ${size}.`);
  }
}

/** The backing service (object store, database) could not be reached or failed; retrying may help. */
export class StorageUnavailableError extends StorageError {
  readonly code = 'UNAVAILABLE';
  readonly reason = 'STORAGE_UNAVAILABLE';

  /**
   * @param storageName - The storage that failed.
   * @param cause - The lower-level error.
   */
  constructor(
    readonly storageName: string,
    cause: unknown,
  ) {
    super(`${storageName} is unavailable.`, { cause });
  }
}

/** An upload was asked to continue past the bytes durably staged for it. */
export class UploadOffsetAheadError extends StorageError {
  readonly code = 'FAILED_PRECONDITION';
  readonly reason = 'UPLOAD_OFFSET_AHEAD';

  /**
   * @param uploadId - The upload.
   * @param offset - The offset asked for.
   * @param durableSize - How many bytes are durably staged.
   */
  constructor(
    readonly uploadId: string,
    readonly offset: number,
    readonly durableSize: number,
  ) {
    super(`Upload ${uploadId} has ${durableSize} staged bytes; cannot continue at ${offset}.`);
  }
}

/** An upload was asked to continue inside a staged part that cannot be cut (GCS part objects). */
export class UploadOffsetUnalignedError extends StorageError {
  readonly code = 'FAILED_PRECONDITION';
  readonly reason = 'UPLOAD_OFFSET_UNALIGNED';

  /**
   * @param uploadId - The upload.
   * @param offset - The offset asked for.
   * @param partStart - Start of the part that contains the offset: the nearest offset to continue at.
   * @param durableSize - How many bytes are durably staged.
   */
  constructor(
    readonly uploadId: string,
    readonly offset: number,
    readonly partStart: number,
    readonly durableSize: number,
  ) {
    super(`Upload ${uploadId}: offset ${offset} falls inside a staged part starting at ${partStart} (${durableSize} bytes staged).`);
  }
}

/** A commit names a size that differs from the bytes staged. */
export class UploadSizeMismatchError extends StorageError {
  readonly code = 'FAILED_PRECONDITION';
  readonly reason = 'UPLOAD_SIZE_MISMATCH';

  /**
   * @param uploadId - The upload.
   * @param expectedSize - The size given to commit.
   * @param stagedSize - The bytes actually staged.
   */
  constructor(
    readonly uploadId: string,
    readonly expectedSize: number,
    readonly stagedSize: number,
  ) {
    super(`Upload ${uploadId} has ${stagedSize} staged bytes, not ${expectedSize}.`);
  }
}

/** A writer was used after close() or destroy(). */
export class UploadWriterClosedError extends StorageError {
  readonly code = 'FAILED_PRECONDITION';
  readonly reason = 'UPLOAD_WRITER_CLOSED';

  /** @param uploadId - The upload. */
  constructor(readonly uploadId: string) {
    super(`The writer of upload ${uploadId} is closed.`);
  }
}

/** A digest that is not 64 lowercase hex characters. */
export class InvalidSha256Error extends StorageError {
  readonly code = 'INVALID_ARGUMENT';
  readonly reason = 'INVALID_SHA256';

  /** @param value - The rejected value. */
  constructor(readonly value: string) {
    super(`Not a lowercase hex SHA-256 digest: ${JSON.stringify(value.slice(0, 100))}.`);
  }
}

/** An upload id that is not a UUID. */
export class InvalidUploadIdError extends StorageError {
  readonly code = 'INVALID_ARGUMENT';
  readonly reason = 'INVALID_UPLOAD_ID';

  /** @param value - The rejected value. */
  constructor(readonly value: string) {
    super(`Not an upload id (UUID): ${JSON.stringify(value.slice(0, 100))}.`);
  }
}

/** A storage name that no configured storage has. */
export class UnknownStorageError extends StorageError {
  readonly code = 'FAILED_PRECONDITION';
  readonly reason = 'UNKNOWN_STORAGE';

  /**
   * @param storageName - The name asked for.
   * @param knownNames - The names of the configured storages.
   */
  constructor(
    readonly storageName: string,
    readonly knownNames: readonly string[],
  ) {
    super(`Unknown storage ${JSON.stringify(storageName)}; configured: ${knownNames.join(', ') || '(none)'}.`);
  }
}

/** The storage configuration is incomplete or contradictory. */
export class InvalidStorageConfigError extends StorageError {
  readonly code = 'FAILED_PRECONDITION';
  readonly reason = 'INVALID_STORAGE_CONFIG';

  /**
   * @param field - The configuration field at fault, e.g. `database`.
   * @param problem - What is wrong with it.
   */
  constructor(
    readonly field: string,
    readonly problem: string,
  ) {
    super(`Storage configuration ${field}: ${problem}`);
  }
}
