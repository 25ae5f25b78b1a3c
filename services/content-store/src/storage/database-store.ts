/**
 * The in-database storage, `griot.database@v1`: small blobs inline in
 * PostgreSQL (`content_blob_data`), uploads staged as rows of
 * `content_upload_parts`, through the service's knex instance.
 */
import type { Readable } from 'node:stream';
import type { Knex } from 'knex';
import type { BlobStat, BlobStore, ByteRange, UploadWriter } from './blob-store';
import { resolveRange } from './byte-range';
import { toStorageError } from './database-errors';
import { BLOB_DATA_TABLE, UPLOAD_PARTS_TABLE } from './database-tables';
import { DatabaseUploadWriter } from './database-upload-writer';
import { deferredReadable } from './deferred-readable';
import {
  BlobNotFoundError,
  BlobTooLargeError,
  InvalidRangeError,
  UploadOffsetAheadError,
  UploadSizeMismatchError,
} from './errors';
import { partStraddling, stagedChain, type PartSpan } from './staged-chain';
import { checkSha256, normalizeUploadId } from './storage-keys';

/** Storage name of the database storage. */
export const DATABASE_STORAGE_NAME = 'griot.database@v1';

/** Default size limit of the database storage: 1 MiB. */
export const DEFAULT_DATABASE_MAX_BYTES = 1024 * 1024;

/** Size of staged parts and of the slices read back: 256 KiB. */
export const DATABASE_CHUNK_BYTES = 256 * 1024;

/** Options of {@link DatabaseBlobStore}. */
export interface DatabaseBlobStoreOptions {
  /** The service's database; it stays the caller's to destroy. */
  knex: Knex;
  /** Largest blob accepted, in bytes; default 1 MiB. */
  maxBytes?: number;
}

/** The storage_config of a database blob. */
export interface DatabaseStorageConfig {
  /** Always `content_blob_data`. */
  table: string;
  /** The row's key. */
  sha256: string;
}

/** Blobs and staged uploads as rows of the content store's database. */
export class DatabaseBlobStore implements BlobStore {
  /** {@inheritDoc BlobStore.name} */
  readonly name = DATABASE_STORAGE_NAME;
  /** Largest blob accepted, in bytes. */
  readonly maxBytes: number;
  private readonly knex: Knex;

  /** @param options - The database and the size limit. */
  constructor(options: DatabaseBlobStoreOptions) {
    this.knex = options.knex;
    this.maxBytes = options.maxBytes ?? DEFAULT_DATABASE_MAX_BYTES;
  }

  /** {@inheritDoc BlobStore.locate} */
  locate(sha256: string): Record<string, unknown> & DatabaseStorageConfig {
    return { table: BLOB_DATA_TABLE, sha256: checkSha256(sha256) };
  }

  /** {@inheritDoc BlobStore.stat} */
  async stat(sha256: string): Promise<BlobStat | undefined> {
    checkSha256(sha256);
    return this.guard(() => this.sizeOf(this.knex, sha256));
  }

  /** {@inheritDoc BlobStore.openUpload} */
  async openUpload(uploadId: string, offset: number): Promise<UploadWriter> {
    const id = normalizeUploadId(uploadId);
    if (!Number.isSafeInteger(offset) || offset < 0) throw new InvalidRangeError(offset, undefined);
    await this.guard(() =>
      this.knex.transaction(async (trx) => {
        const { chain, durableSize, strays } = stagedChain(await this.partsOf(trx, id));
        if (offset > durableSize) throw new UploadOffsetAheadError(id, offset, durableSize);
        // Rows at or past the offset were written by an attempt whose progress was never recorded.
        const dropped = [...chain.filter((p) => p.start >= offset), ...strays].map((p) => p.start);
        if (dropped.length > 0) {
          await trx(UPLOAD_PARTS_TABLE).where({ upload_id: id }).whereIn('start_offset', dropped).delete();
        }
        const straddling = partStraddling(chain, offset);
        if (straddling) {
          await trx.raw(
            `UPDATE ${UPLOAD_PARTS_TABLE} SET data = substring(data from 1 for ?) WHERE upload_id = ? AND start_offset = ?`,
            [offset - straddling.start, id, straddling.start],
          );
        }
      }),
    );
    return new DatabaseUploadWriter(this.name, this.knex, id, offset, {
      maxBytes: this.maxBytes,
      partBytes: DATABASE_CHUNK_BYTES,
    });
  }

  /** {@inheritDoc BlobStore.readUpload} */
  readUpload(uploadId: string, length: number): Readable {
    const store = this;
    return deferredReadable(async function* () {
      const id = normalizeUploadId(uploadId);
      if (!Number.isSafeInteger(length) || length < 0) throw new InvalidRangeError(0, length);
      if (length === 0) return;
      const { chain, durableSize } = stagedChain(await store.guard(() => store.partsOf(store.knex, id)));
      if (durableSize < length) throw new UploadOffsetAheadError(id, length, durableSize);
      for (const part of chain) {
        const take = Math.min(part.size, length - part.start);
        if (take <= 0) break;
        const rows = await store.guard(() =>
          store.rows<{ data: Buffer }>(
            store.knex,
            `SELECT substring(data from 1 for ?) AS data FROM ${UPLOAD_PARTS_TABLE} WHERE upload_id = ? AND start_offset = ?`,
            [take, id, part.start],
          ),
        );
        // A part vanishing mid-read means the upload was reopened or aborted meanwhile.
        if (rows.length === 0) throw new UploadOffsetAheadError(id, length, part.start);
        yield rows[0]!.data;
      }
    });
  }

  /** {@inheritDoc BlobStore.commitUpload} */
  async commitUpload(uploadId: string, sha256: string, size: number): Promise<Record<string, unknown>> {
    const id = normalizeUploadId(uploadId);
    const location = this.locate(sha256);
    await this.guard(() =>
      this.knex.transaction(async (trx) => {
        if ((await this.sizeOf(trx, sha256)) === undefined) {
          const { durableSize } = stagedChain(await this.partsOf(trx, id));
          if (durableSize !== size) throw new UploadSizeMismatchError(id, size, durableSize);
          if (size > this.maxBytes) throw new BlobTooLargeError(this.name, this.maxBytes, size);
          // Only the chain [0, size) goes in; a concurrent commit of the same digest makes this a no-op.
          await trx.raw(
            `INSERT INTO ${BLOB_DATA_TABLE} (sha256, size, data)
             SELECT ?, ?, COALESCE(string_agg(data, ''::bytea ORDER BY start_offset), ''::bytea)
             FROM ${UPLOAD_PARTS_TABLE} WHERE upload_id = ? AND start_offset < ?
             ON CONFLICT (sha256) DO NOTHING`,
            [sha256, size, id, size],
          );
        }
        await trx.raw(`DELETE FROM ${UPLOAD_PARTS_TABLE} WHERE upload_id = ?`, [id]);
      }),
    );
    return location;
  }

  /** {@inheritDoc BlobStore.abortUpload} */
  async abortUpload(uploadId: string): Promise<void> {
    const id = normalizeUploadId(uploadId);
    await this.guard(() => this.knex.raw(`DELETE FROM ${UPLOAD_PARTS_TABLE} WHERE upload_id = ?`, [id]));
  }

  /** {@inheritDoc BlobStore.read} */
  read(sha256: string, range?: ByteRange): Readable {
    const store = this;
    return deferredReadable(async function* () {
      checkSha256(sha256);
      const stat = await store.guard(() => store.sizeOf(store.knex, sha256));
      if (!stat) throw new BlobNotFoundError(store.name, sha256);
      const slice = resolveRange(range, stat.size);
      const end = slice.start + slice.length;
      // Slices of 256 KiB keep memory flat whatever the blob size.
      for (let at = slice.start; at < end; at += DATABASE_CHUNK_BYTES) {
        const rows = await store.guard(() =>
          store.rows<{ data: Buffer }>(
            store.knex,
            `SELECT substring(data from ? for ?) AS data FROM ${BLOB_DATA_TABLE} WHERE sha256 = ?`,
            [at + 1, Math.min(DATABASE_CHUNK_BYTES, end - at), sha256],
          ),
        );
        if (rows.length === 0) throw new BlobNotFoundError(store.name, sha256);
        yield rows[0]!.data;
      }
    });
  }

  /** {@inheritDoc BlobStore.delete} */
  async delete(sha256: string): Promise<void> {
    checkSha256(sha256);
    await this.guard(() => this.knex.raw(`DELETE FROM ${BLOB_DATA_TABLE} WHERE sha256 = ?`, [sha256]));
  }

  /** {@inheritDoc BlobStore.close} */
  async close(): Promise<void> {
    // The knex instance belongs to the service, which destroys it.
  }

  /** {@inheritDoc BlobStore.probe}: its table answers. */
  async probe(): Promise<void> {
    await this.knex.raw(`SELECT 1 FROM ${BLOB_DATA_TABLE} LIMIT 1`);
  }

  private async sizeOf(db: Knex | Knex.Transaction, sha256: string): Promise<BlobStat | undefined> {
    const rows = await this.rows<{ size: string }>(db, `SELECT size FROM ${BLOB_DATA_TABLE} WHERE sha256 = ?`, [sha256]);
    return rows.length === 0 ? undefined : { size: Number(rows[0]!.size) };
  }

  private async partsOf(db: Knex | Knex.Transaction, id: string): Promise<PartSpan[]> {
    const rows = await this.rows<{ start_offset: string; size: number }>(
      db,
      `SELECT start_offset, length(data) AS size FROM ${UPLOAD_PARTS_TABLE} WHERE upload_id = ? ORDER BY start_offset`,
      [id],
    );
    return rows.map((r) => ({ start: Number(r.start_offset), size: Number(r.size) }));
  }

  private async rows<T>(db: Knex | Knex.Transaction, sql: string, bindings: readonly Knex.RawBinding[]): Promise<T[]> {
    const result = (await db.raw(sql, bindings)) as { rows: T[] };
    return result.rows;
  }

  private async guard<T>(operation: () => Promise<T>): Promise<T> {
    try {
      return await operation();
    } catch (err) {
      throw toStorageError(this.name, err);
    }
  }
}
