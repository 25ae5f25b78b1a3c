/**
 * The local file storage, `griot.file@v1`: blobs at
 * `<root>/sha256/<aa>/<hex>`, uploads staged at `<root>/uploads/<uploadId>`.
 */
import { constants } from 'node:fs';
import { access, link, mkdir, open, rename, rm, stat, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import type { BlobStat, BlobStore, ByteRange, ReadBuffers, UploadWriter } from './blob-store';
import { resolveRange } from './byte-range';
import { deferredReadable, READ_HIGH_WATER_MARK } from './deferred-readable';
import { BlobNotFoundError, InvalidRangeError, UploadOffsetAheadError, UploadSizeMismatchError } from './errors';
import { FileUploadWriter } from './file-upload-writer';
import { isErrno, syncDirectory } from './file-system';
import { checkSha256, normalizeUploadId } from './storage-keys';

/** Storage name of the file storage. */
export const FILE_STORAGE_NAME = 'griot.file@v1';

/** Options of {@link FileBlobStore}. */
export interface FileBlobStoreOptions {
  /** Root directory; created when missing. */
  root: string;
  /**
   * Whether uploads are written with direct I/O (`O_DIRECT`) where the file
   * system supports it (default true); false writes through the page cache.
   */
  directIo?: boolean;
}

/** The storage_config of a file blob: its path relative to the root, with '/' separators. */
export interface FileStorageConfig {
  /** E.g. `sha256/ab/ab12…`. */
  path: string;
}

/** Blobs and staged uploads as files under one root directory. */
export class FileBlobStore implements BlobStore {
  /** {@inheritDoc BlobStore.name} */
  readonly name = FILE_STORAGE_NAME;
  private readonly root: string;
  private readonly uploadsDir: string;
  /** Whether to try direct I/O; turned off when the file system refuses it. */
  private directIo: boolean;

  /** @param options - Where the files live, and how uploads write. */
  constructor(options: FileBlobStoreOptions) {
    this.root = options.root;
    this.uploadsDir = join(options.root, 'uploads');
    this.directIo = (options.directIo ?? true) && constants.O_DIRECT !== undefined;
  }

  /** {@inheritDoc BlobStore.locate} */
  locate(sha256: string): Record<string, unknown> & FileStorageConfig {
    return { path: relativeBlobPath(checkSha256(sha256)) };
  }

  /** {@inheritDoc BlobStore.stat} */
  async stat(sha256: string): Promise<BlobStat | undefined> {
    try {
      return { size: (await stat(this.blobPath(sha256))).size };
    } catch (err) {
      if (isErrno(err, 'ENOENT')) return undefined;
      throw err;
    }
  }

  /** {@inheritDoc BlobStore.openUpload} */
  async openUpload(uploadId: string, offset: number): Promise<UploadWriter> {
    const id = normalizeUploadId(uploadId);
    if (!Number.isSafeInteger(offset) || offset < 0) throw new InvalidRangeError(offset, undefined);
    const path = this.uploadPath(id);
    if (offset === 0) {
      await mkdir(this.uploadsDir, { recursive: true });
      // Remove, then create: truncating in place could cut a committed blob
      // if a crash left the staging name hard-linked to it.
      await rm(path, { force: true });
      const handle = await open(path, constants.O_RDWR | constants.O_CREAT | constants.O_EXCL);
      return this.writer(id, handle, 0, () => syncDirectory(this.uploadsDir));
    }
    const handle = await this.openStaging(id, offset);
    return this.writer(id, handle, offset, undefined);
  }

  /** A writer of the staging file open at `handle`, with a second, direct handle when the file system takes one. */
  private async writer(id: string, handle: FileHandle, offset: number, syncDir: (() => Promise<void>) | undefined): Promise<UploadWriter> {
    try {
      const direct = this.directIo ? await this.openDirect(this.uploadPath(id)) : undefined;
      try {
        return await FileUploadWriter.open(id, { handle, direct }, offset, syncDir);
      } catch (err) {
        await direct?.close();
        throw err;
      }
    } catch (err) {
      await handle.close();
      throw err;
    }
  }

  /** The file opened for direct writes, or undefined (and no more tries) where the file system refuses O_DIRECT. */
  private async openDirect(path: string): Promise<FileHandle | undefined> {
    try {
      return await open(path, constants.O_WRONLY | constants.O_DIRECT);
    } catch (err) {
      if (!isErrno(err, 'EINVAL', 'EOPNOTSUPP', 'ENOTSUP')) throw err;
      this.directIo = false;
      return undefined;
    }
  }

  /** {@inheritDoc BlobStore.readUpload} */
  readUpload(uploadId: string, length: number): Readable {
    const store = this;
    return deferredReadable(async function* () {
      const id = normalizeUploadId(uploadId);
      if (!Number.isSafeInteger(length) || length < 0) throw new InvalidRangeError(0, length);
      if (length === 0) return;
      let handle: FileHandle;
      try {
        handle = await open(store.uploadPath(id), 'r');
      } catch (err) {
        if (isErrno(err, 'ENOENT')) throw new UploadOffsetAheadError(id, length, 0);
        throw err;
      }
      const { size } = await handle.stat().catch(async (err: unknown) => {
        await handle.close();
        throw err;
      });
      if (size < length) {
        await handle.close();
        throw new UploadOffsetAheadError(id, length, size);
      }
      yield* handle.createReadStream({ start: 0, end: length - 1, highWaterMark: READ_HIGH_WATER_MARK });
    });
  }

  /** {@inheritDoc BlobStore.commitUpload} */
  async commitUpload(uploadId: string, sha256: string, size: number): Promise<Record<string, unknown>> {
    const id = normalizeUploadId(uploadId);
    const location = this.locate(sha256);
    const staging = this.uploadPath(id);
    const target = this.blobPath(sha256);
    let handle: FileHandle;
    try {
      handle = await open(staging, 'r');
    } catch (err) {
      if (!isErrno(err, 'ENOENT')) throw err;
      // Nothing staged: a retried commit that already succeeded, or an empty blob.
      if (await this.stat(sha256)) return location;
      if (size !== 0) throw new UploadSizeMismatchError(id, size, 0);
      await this.openUpload(id, 0).then((writer) => writer.close());
      handle = await open(staging, 'r');
    }
    try {
      const staged = (await handle.stat()).size;
      if (staged !== size) throw new UploadSizeMismatchError(id, size, staged);
      await handle.sync();
    } finally {
      await handle.close();
    }
    const directory = join(this.root, 'sha256', sha256.slice(0, 2));
    await mkdir(directory, { recursive: true });
    if (await placeCreateOnly(staging, target)) await syncDirectory(directory);
    await rm(staging, { force: true });
    await syncDirectory(this.uploadsDir);
    return location;
  }

  /** {@inheritDoc BlobStore.abortUpload} */
  async abortUpload(uploadId: string): Promise<void> {
    await rm(this.uploadPath(normalizeUploadId(uploadId)), { force: true });
  }

  /** {@inheritDoc BlobStore.read} */
  read(sha256: string, range?: ByteRange, buffers?: ReadBuffers): Readable {
    const store = this;
    const allocate = buffers?.allocate ?? ((size: number) => Buffer.allocUnsafeSlow(size));
    return deferredReadable(async function* () {
      let handle: FileHandle;
      try {
        handle = await open(store.blobPath(sha256), 'r');
      } catch (err) {
        if (isErrno(err, 'ENOENT')) throw new BlobNotFoundError(store.name, sha256);
        throw err;
      }
      let slice: { start: number; length: number };
      try {
        slice = resolveRange(range, (await handle.stat()).size);
      } catch (err) {
        await handle.close();
        throw err;
      }
      if (slice.length === 0) {
        await handle.close();
        return;
      }
      // Reading through the open descriptor: a concurrent delete cannot cut the stream short.
      try {
        const end = slice.start + slice.length;
        for (let position = slice.start; position < end; ) {
          const chunk = allocate(Math.min(READ_HIGH_WATER_MARK, end - position));
          const { bytesRead } = await handle.read(chunk, 0, chunk.length, position);
          // A file shorter than its recorded size ends the stream early; the reader checks the length.
          if (bytesRead === 0) return;
          position += bytesRead;
          yield bytesRead === chunk.length ? chunk : chunk.subarray(0, bytesRead);
        }
      } finally {
        await handle.close();
      }
    });
  }

  /** {@inheritDoc BlobStore.delete} */
  async delete(sha256: string): Promise<void> {
    try {
      await unlink(this.blobPath(sha256));
    } catch (err) {
      if (!isErrno(err, 'ENOENT')) throw err;
    }
  }

  /** {@inheritDoc BlobStore.close} */
  async close(): Promise<void> {
    // Nothing is held open between calls.
  }

  /** {@inheritDoc BlobStore.probe}: the root folder exists (or can be made) and is writable. */
  async probe(): Promise<void> {
    await mkdir(this.root, { recursive: true });
    await access(this.root, constants.W_OK);
  }

  private async openStaging(id: string, offset: number): Promise<FileHandle> {
    let handle: FileHandle;
    try {
      handle = await open(this.uploadPath(id), 'r+');
    } catch (err) {
      if (isErrno(err, 'ENOENT')) throw new UploadOffsetAheadError(id, offset, 0);
      throw err;
    }
    try {
      const { size, nlink } = await handle.stat();
      // A second link means a commit linked these bytes into place and stopped
      // before removing the staging name: they belong to a blob now.
      if (nlink > 1) {
        await unlink(this.uploadPath(id));
        throw new UploadOffsetAheadError(id, offset, 0);
      }
      if (size < offset) throw new UploadOffsetAheadError(id, offset, size);
      // Bytes past the offset were written by an attempt whose progress was never recorded.
      await handle.truncate(offset);
      return handle;
    } catch (err) {
      await handle.close();
      throw err;
    }
  }

  private blobPath(sha256: string): string {
    return join(this.root, relativeBlobPath(checkSha256(sha256)));
  }

  private uploadPath(id: string): string {
    return join(this.uploadsDir, id);
  }
}

function relativeBlobPath(sha256: string): string {
  return `sha256/${sha256.slice(0, 2)}/${sha256}`;
}

/**
 * Puts `source` at `target` unless `target` exists. A hard link is atomic and
 * never replaces; where links are not supported, falls back to check-then-
 * rename (a race can then only replace a blob with the same digest).
 *
 * @returns Whether `target` was created.
 */
async function placeCreateOnly(source: string, target: string): Promise<boolean> {
  try {
    await link(source, target);
    return true;
  } catch (err) {
    if (isErrno(err, 'EEXIST')) return false;
    if (!isErrno(err, 'EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'EXDEV', 'EMLINK')) throw err;
  }
  try {
    await stat(target);
    return false;
  } catch (err) {
    if (!isErrno(err, 'ENOENT')) throw err;
  }
  await rename(source, target);
  return true;
}
