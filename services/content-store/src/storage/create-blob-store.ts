/**
 * The one place that turns storage configuration into {@link BlobStore}s.
 */
import type { Knex } from 'knex';
import type { BlobStore } from './blob-store';
import { DatabaseBlobStore } from './database-store';
import { InvalidStorageConfigError, UnknownStorageError } from './errors';
import { FileBlobStore } from './file-store';
import { GcsBlobStore, type GcsBlobStoreOptions } from './gcs-store';

/** Kinds of storage that can be configured. */
export type BlobStoreKind = 'file' | 'gcs' | 'database';

/** Plain storage configuration (from the environment or a config file). */
export interface BlobStoresConfig {
  /** Local files under `root`; `directIo` (default true) writes uploads with O_DIRECT where the file system supports it. */
  file?: { root: string; directIo?: boolean };
  /** A GCS bucket. */
  gcs?: Omit<GcsBlobStoreOptions, 'storage'>;
  /** Inline in the service's database; needs `deps.knex`. */
  database?: { maxBytes?: number };
  /** Where new uploads go; default `gcs` if configured, else `file`, else `database`. */
  default?: BlobStoreKind;
}

/** What the stores need from the service. */
export interface BlobStoresDeps {
  /** The service's database, for the database storage. */
  knex?: Knex;
}

/** The configured stores, by storage name. */
export interface BlobStoreRegistry {
  /**
   * The store recorded as `storageName` (e.g. from labox_contents.storage_name).
   *
   * @throws UnknownStorageError when no configured store has that name.
   */
  get(storageName: string): BlobStore;
  /** The store new uploads go to. */
  readonly default: BlobStore;
  /** Every configured store. */
  all(): BlobStore[];
  /** Closes every store. */
  close(): Promise<void>;
}

/** Order of preference for the default store. */
const DEFAULT_ORDER: readonly BlobStoreKind[] = ['gcs', 'file', 'database'];

/**
 * Builds the configured stores.
 *
 * @param config - Which storages to use and how.
 * @param deps - Shared resources (the database for the database storage).
 * @throws InvalidStorageConfigError when nothing is configured, the default
 *   is not configured, or the database storage lacks a database.
 */
export function createBlobStores(config: BlobStoresConfig, deps: BlobStoresDeps = {}): BlobStoreRegistry {
  const byKind = new Map<BlobStoreKind, BlobStore>();
  if (config.file) {
    if (!config.file.root) throw new InvalidStorageConfigError('file.root', 'a root directory is required.');
    byKind.set('file', new FileBlobStore({ root: config.file.root, directIo: config.file.directIo }));
  }
  if (config.gcs) {
    if (!config.gcs.bucket) throw new InvalidStorageConfigError('gcs.bucket', 'a bucket name is required.');
    byKind.set('gcs', new GcsBlobStore(config.gcs));
  }
  if (config.database) {
    if (!deps.knex) throw new InvalidStorageConfigError('database', 'the database storage needs the service database (deps.knex).');
    const { maxBytes } = config.database;
    if (maxBytes !== undefined && (!Number.isSafeInteger(maxBytes) || maxBytes <= 0)) {
      throw new InvalidStorageConfigError('database.maxBytes', `must be a positive integer, got ${maxBytes}.`);
    }
    byKind.set('database', new DatabaseBlobStore({ knex: deps.knex, maxBytes }));
  }
  const defaultKind = config.default ?? DEFAULT_ORDER.find((kind) => byKind.has(kind));
  if (defaultKind === undefined) throw new InvalidStorageConfigError('storage', 'configure at least one of file, gcs or database.');
  const defaultStore = byKind.get(defaultKind);
  if (!defaultStore) throw new InvalidStorageConfigError('default', `${defaultKind} is the default but is not configured.`);
  const byName = new Map([...byKind.values()].map((store) => [store.name, store]));
  return {
    get(storageName) {
      const store = byName.get(storageName);
      if (!store) throw new UnknownStorageError(storageName, [...byName.keys()]);
      return store;
    },
    default: defaultStore,
    all: () => [...byName.values()],
    close: async () => {
      await Promise.all([...byName.values()].map((store) => store.close()));
    },
  };
}
