/**
 * The Google Cloud Storage storage, `griot.gcs@v1`, through the official
 * `@google-cloud/storage` client: blobs at `<prefix>/sha256/<hex>`, uploads
 * staged as part objects and composed into place on commit.
 */
import type { Readable } from 'node:stream';
import { Storage, type Bucket, type StorageOptions } from '@google-cloud/storage';
import type { BlobStat, BlobStore, ByteRange, UploadWriter } from './blob-store';
import { resolveRange } from './byte-range';
import { deferredReadable } from './deferred-readable';
import { BlobNotFoundError, InvalidRangeError, UploadOffsetAheadError, UploadOffsetUnalignedError, UploadSizeMismatchError } from './errors';
import { mapLimited } from './map-limited';
import { gcsStatusOf, toStorageError } from './gcs-errors';
import { GcsObjectNames } from './gcs-object-names';
import { listStagedParts } from './gcs-staged-parts';
import { partStraddling } from './staged-chain';
import { GcsUploadWriter } from './gcs-upload-writer';
import { checkSha256, normalizeUploadId } from './storage-keys';

/** Storage name of the GCS storage. */
export const GCS_STORAGE_NAME = 'griot.gcs@v1';

/** Most source objects of one GCS compose request. */
export const MAX_COMPOSE_SOURCES = 32;

/** Parallel requests when deleting or composing many objects. */
const CONCURRENCY = 8;

/** Options of {@link GcsBlobStore}. */
export interface GcsBlobStoreOptions {
  /** Bucket name. */
  bucket: string;
  /** Prefix of every object name, e.g. `griot`; default none. */
  prefix?: string;
  /** JSON API endpoint, e.g. `http://127.0.0.1:4443` for an emulator; default Google's. A custom endpoint is called without credentials unless some are given. */
  apiEndpoint?: string;
  /** Project id; required by the client with a custom endpoint. */
  projectId?: string;
  /** Service account key (`client_email`, `private_key`); default Application Default Credentials. */
  credentials?: { client_email?: string; private_key?: string };
  /** Path of a service account key file. */
  keyFilename?: string;
  /** A ready client to use instead (tests, shared clients); the options above are then ignored. */
  storage?: Storage;
}

/** The storage_config of a GCS blob. */
export interface GcsStorageConfig {
  /** Bucket name. */
  bucket: string;
  /** Object name. */
  object: string;
}

/** Blobs and staged uploads as objects of one bucket. */
export class GcsBlobStore implements BlobStore {
  /** {@inheritDoc BlobStore.name} */
  readonly name = GCS_STORAGE_NAME;
  private readonly bucket: Bucket;
  private readonly names: GcsObjectNames;

  /** @param options - Bucket, prefix and how to reach GCS. */
  constructor(options: GcsBlobStoreOptions) {
    const storage = options.storage ?? new Storage(clientOptions(options));
    this.bucket = storage.bucket(options.bucket);
    this.names = new GcsObjectNames(options.prefix ?? '');
  }

  /** {@inheritDoc BlobStore.locate} */
  locate(sha256: string): Record<string, unknown> & GcsStorageConfig {
    return { bucket: this.bucket.name, object: this.names.blob(checkSha256(sha256)) };
  }

  /** {@inheritDoc BlobStore.stat} */
  async stat(sha256: string): Promise<BlobStat | undefined> {
    const metadata = await this.metadataOf(sha256);
    return metadata && { size: metadata.size };
  }

  /** {@inheritDoc BlobStore.openUpload} */
  async openUpload(uploadId: string, offset: number): Promise<UploadWriter> {
    const id = normalizeUploadId(uploadId);
    if (!Number.isSafeInteger(offset) || offset < 0) throw new InvalidRangeError(offset, undefined);
    try {
      const staged = await listStagedParts(this.bucket, this.names, id);
      if (offset > staged.durableSize) throw new UploadOffsetAheadError(id, offset, staged.durableSize);
      const straddling = partStraddling(staged.chain, offset);
      if (straddling) throw new UploadOffsetUnalignedError(id, offset, straddling.start, staged.durableSize);
      // Parts at or past the offset were written by an attempt whose progress was never recorded.
      const dropped = [...staged.chain.filter((p) => p.start >= offset).map((p) => p.name), ...staged.strays];
      await this.deleteObjects(dropped);
      return new GcsUploadWriter(this.name, this.bucket, this.names, id, offset);
    } catch (err) {
      throw toStorageError(this.name, err);
    }
  }

  /** {@inheritDoc BlobStore.readUpload} */
  readUpload(uploadId: string, length: number): Readable {
    const store = this;
    return deferredReadable(async function* () {
      const id = normalizeUploadId(uploadId);
      if (!Number.isSafeInteger(length) || length < 0) throw new InvalidRangeError(0, length);
      if (length === 0) return;
      try {
        const staged = await listStagedParts(store.bucket, store.names, id);
        if (staged.durableSize < length) throw new UploadOffsetAheadError(id, length, staged.durableSize);
        for (const part of staged.chain) {
          const take = Math.min(part.size, length - part.start);
          if (take <= 0) break;
          const file = store.bucket.file(part.name);
          yield* file.createReadStream(take === part.size ? {} : { start: 0, end: take - 1 });
        }
      } catch (err) {
        throw toStorageError(store.name, err);
      }
    });
  }

  /** {@inheritDoc BlobStore.commitUpload} */
  async commitUpload(uploadId: string, sha256: string, size: number): Promise<Record<string, unknown>> {
    const id = normalizeUploadId(uploadId);
    const location = this.locate(sha256);
    try {
      const staged = await listStagedParts(this.bucket, this.names, id);
      const leftovers = [...staged.chain.map((p) => p.name), ...staged.strays];
      if (await this.metadataOf(sha256)) {
        await this.deleteObjects(leftovers);
        return location;
      }
      if (staged.durableSize !== size) throw new UploadSizeMismatchError(id, size, staged.durableSize);
      const intermediates = await this.composeInto(
        id,
        staged.chain.map((p) => p.name),
        location.object,
      );
      await this.deleteObjects([...leftovers, ...intermediates]);
      return location;
    } catch (err) {
      throw toStorageError(this.name, err);
    }
  }

  /** {@inheritDoc BlobStore.abortUpload} */
  async abortUpload(uploadId: string): Promise<void> {
    const id = normalizeUploadId(uploadId);
    try {
      const [files] = await this.bucket.getFiles({ prefix: this.names.uploadPrefix(id), autoPaginate: true });
      await this.deleteObjects(files.map((f) => f.name));
    } catch (err) {
      throw toStorageError(this.name, err);
    }
  }

  /** {@inheritDoc BlobStore.read} */
  read(sha256: string, range?: ByteRange): Readable {
    const store = this;
    return deferredReadable(async function* () {
      const metadata = await store.metadataOf(sha256);
      if (!metadata) throw new BlobNotFoundError(store.name, sha256);
      const slice = resolveRange(range, metadata.size);
      if (slice.length === 0) return;
      // Pin the generation: a blob replaced or deleted mid-read fails instead of mixing versions.
      const file = store.bucket.file(store.names.blob(sha256), { generation: metadata.generation });
      const whole = slice.start === 0 && slice.length === metadata.size;
      try {
        // A whole-object read lets the client check the CRC32C; ranged reads cannot.
        yield* file.createReadStream(whole ? {} : { start: slice.start, end: slice.start + slice.length - 1 });
      } catch (err) {
        if (gcsStatusOf(err) === 404) throw new BlobNotFoundError(store.name, sha256);
        throw toStorageError(store.name, err);
      }
    });
  }

  /** {@inheritDoc BlobStore.delete} */
  async delete(sha256: string): Promise<void> {
    try {
      await this.bucket.file(this.names.blob(checkSha256(sha256))).delete({ ignoreNotFound: true });
    } catch (err) {
      throw toStorageError(this.name, err);
    }
  }

  /** {@inheritDoc BlobStore.close} */
  async close(): Promise<void> {
    // The client holds no pool that needs closing; its sockets idle out.
  }

  /** {@inheritDoc BlobStore.probe}: the bucket's metadata can be read. */
  async probe(): Promise<void> {
    await this.bucket.getMetadata();
  }

  private async metadataOf(sha256: string): Promise<{ size: number; generation: number } | undefined> {
    const file = this.bucket.file(this.names.blob(checkSha256(sha256)));
    try {
      const [metadata] = await file.getMetadata();
      return { size: Number(metadata.size ?? 0), generation: Number(metadata.generation) };
    } catch (err) {
      if (gcsStatusOf(err) === 404) return undefined;
      throw toStorageError(this.name, err);
    }
  }

  /**
   * Composes `sources` (in order) into `destination`, create-only, in levels
   * of at most 32 sources. A 412 means the blob appeared meanwhile: fine.
   *
   * @returns The names of the intermediate objects, for cleanup.
   */
  private async composeInto(uploadId: string, sources: string[], destination: string): Promise<string[]> {
    if (sources.length === 0) {
      // Compose needs a source: an empty blob is written directly.
      await this.createOnly(() =>
        this.bucket.file(destination).save(Buffer.alloc(0), {
          resumable: false,
          preconditionOpts: { ifGenerationMatch: 0 },
        }),
      );
      return [];
    }
    const intermediates: string[] = [];
    let level = 0;
    let current = sources;
    while (current.length > MAX_COMPOSE_SOURCES) {
      const groups = chunk(current, MAX_COMPOSE_SOURCES);
      current = await mapLimited(groups, CONCURRENCY, async (group, index) => {
        const name = this.names.intermediate(uploadId, level, index);
        await this.bucket.combine(group, name);
        intermediates.push(name);
        return name;
      });
      level++;
    }
    await this.createOnly(() => this.bucket.combine(current, destination, { ifGenerationMatch: 0 }));
    return intermediates;
  }

  private async createOnly(write: () => Promise<unknown>): Promise<void> {
    try {
      await write();
    } catch (err) {
      if (gcsStatusOf(err) !== 412) throw err;
    }
  }

  private async deleteObjects(names: string[]): Promise<void> {
    await mapLimited(names, CONCURRENCY, (name) => this.bucket.file(name).delete({ ignoreNotFound: true }));
  }
}

function clientOptions(options: GcsBlobStoreOptions): StorageOptions {
  const authenticated = options.credentials !== undefined || options.keyFilename !== undefined;
  return {
    ...(options.apiEndpoint !== undefined && { apiEndpoint: options.apiEndpoint }),
    ...(options.projectId !== undefined && { projectId: options.projectId }),
    ...(options.credentials !== undefined && { credentials: options.credentials }),
    ...(options.keyFilename !== undefined && { keyFilename: options.keyFilename }),
    // With a custom endpoint the client sends no credentials unless asked to.
    ...(options.apiEndpoint !== undefined && authenticated && { useAuthWithCustomEndpoint: true }),
  };
}

function chunk<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
