/**
 * The storages the content store writes to, chosen by configuration: a thin
 * adapter over the storage factory in `storage/` that maps the service's
 * environment variables to it, lets an empty storage name mean the default,
 * and lets tests add storages.
 */
import type { Knex } from 'knex';
import { ConfigError } from '@griot/server-kit';
import { fileStoreRoot, type ContentStoreConfig } from './config';
import { createBlobStores, InvalidStorageConfigError, UnknownStorageError, type BlobStore, type BlobStoreKind } from './storage';

/** The configured storages, by name, with a default. */
export interface BlobStores {
  /** The storage of that name; the default when `name` is empty. @throws UnknownStorageError */
  get(name: string): BlobStore;
  /** The storage used when a request names none. */
  readonly default: BlobStore;
  /** Every configured storage. */
  all(): BlobStore[];
  /** Closes every storage. */
  close(): Promise<void>;
}

const KIND_OF_NAME: Record<ContentStoreConfig['CONTENT_DEFAULT_STORAGE'], BlobStoreKind> = {
  'griot.file@v1': 'file',
  'griot.gcs@v1': 'gcs',
  'griot.database@v1': 'database',
};

/**
 * Opens the storages the configuration enables: files and the database
 * always, GCS when a bucket is set, plus `extra` ones (tests; one with the
 * name of a configured storage replaces it).
 *
 * @throws ConfigError naming CONTENT_DEFAULT_STORAGE (or the storage
 *   variable at fault) when the configuration is not usable.
 */
export function openBlobStores(config: ContentStoreConfig, knex: Knex, extra: BlobStore[] = []): BlobStores {
  let registry;
  try {
    registry = createBlobStores(
      {
        file: { root: fileStoreRoot(config), directIo: config.CONTENT_FILE_DIRECT_IO === 'auto' },
        database: { maxBytes: config.CONTENT_DATABASE_STORAGE_MAX_BYTES },
        gcs: config.CONTENT_GCS_BUCKET
          ? { bucket: config.CONTENT_GCS_BUCKET, prefix: config.CONTENT_GCS_PREFIX, apiEndpoint: config.CONTENT_GCS_ENDPOINT, projectId: config.CONTENT_GCS_PROJECT }
          : undefined,
        default: KIND_OF_NAME[config.CONTENT_DEFAULT_STORAGE],
      },
      { knex },
    );
  } catch (err) {
    if (err instanceof InvalidStorageConfigError) {
      const variable = err.field === 'default' ? 'CONTENT_DEFAULT_STORAGE' : err.field.startsWith('gcs') ? 'CONTENT_GCS_BUCKET' : 'CONTENT_DEFAULT_STORAGE';
      throw new ConfigError(variable, err.message);
    }
    throw err;
  }
  const byName = new Map(registry.all().map((s) => [s.name, s]));
  for (const store of extra) byName.set(store.name, store);
  const fallback = byName.get(registry.default.name)!;
  return {
    default: fallback,
    get(name) {
      if (name === '') return fallback;
      const store = byName.get(name);
      if (!store) throw new UnknownStorageError(name, [...byName.keys()]);
      return store;
    },
    all: () => [...byName.values()],
    async close() {
      await Promise.all([...byName.values()].map((s) => s.close()));
    },
  };
}
