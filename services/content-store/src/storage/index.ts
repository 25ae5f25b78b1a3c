/**
 * The content store's storage backends behind one streaming interface, the
 * factory that picks them from configuration, and their typed errors.
 * @packageDocumentation
 */
export type { BlobStat, BlobStore, ByteRange, UploadWriter } from './blob-store';
export {
  createBlobStores,
  type BlobStoreKind,
  type BlobStoreRegistry,
  type BlobStoresConfig,
  type BlobStoresDeps,
} from './create-blob-store';
export {
  DATABASE_STORAGE_NAME,
  DatabaseBlobStore,
  DEFAULT_DATABASE_MAX_BYTES,
  type DatabaseBlobStoreOptions,
  type DatabaseStorageConfig,
} from './database-store';
export * from './errors';
export { FILE_STORAGE_NAME, FileBlobStore, type FileBlobStoreOptions, type FileStorageConfig } from './file-store';
export { GCS_STORAGE_NAME, GcsBlobStore, type GcsBlobStoreOptions, type GcsStorageConfig } from './gcs-store';
