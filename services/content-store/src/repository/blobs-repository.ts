/**
 * SQL of `content_blobs`: one row per blob committed to a storage, with its
 * pin (kept while unreferenced until then) and deletion mark.
 */
import type { Knex } from 'knex';

/** A committed blob. */
export interface BlobRecord {
  /** The storage that holds it. */
  storageName: string;
  /** SHA-256, lowercase hex. */
  sha256: string;
  /** Size in bytes. */
  size: number;
  /** Where the storage keeps it. */
  storageConfig: Record<string, unknown>;
  /** When it was first committed. */
  createdAt: Date;
  /** Kept until then while unreferenced; null once referenced. */
  pinnedUntil: Date | null;
}

/** A blob by storage and digest. */
export interface BlobKey {
  /** The storage. */
  storageName: string;
  /** SHA-256, lowercase hex. */
  sha256: string;
}

interface BlobRow {
  storage_name: string;
  sha256: string;
  size: number | string;
  storage_config: Record<string, unknown> | string;
  created_at: Date;
  pinned_until: Date | null;
}

const COLUMNS = 'storage_name, sha256, size, storage_config, created_at, pinned_until';

function toRecord(row: BlobRow): BlobRecord {
  return {
    storageName: row.storage_name,
    sha256: row.sha256,
    size: Number(row.size),
    storageConfig: typeof row.storage_config === 'string' ? (JSON.parse(row.storage_config) as Record<string, unknown>) : row.storage_config,
    createdAt: new Date(row.created_at),
    pinnedUntil: row.pinned_until === null ? null : new Date(row.pinned_until),
  };
}

function keyList(keys: BlobKey[]): { sql: string; bindings: string[] } {
  return { sql: keys.map(() => '(?, ?)').join(', '), bindings: keys.flatMap((k) => [k.storageName, k.sha256]) };
}

/** The SQL of committed blobs. */
export const blobsRepository = {
  /** The live (not being deleted) blob of a storage, if any. */
  async findLive(db: Knex, storageName: string, sha256: string): Promise<BlobRecord | undefined> {
    const { rows } = await db.raw<{ rows: BlobRow[] }>(
      `SELECT ${COLUMNS} FROM content_blobs WHERE storage_name = ? AND sha256 = ? AND deleting_since IS NULL`,
      [storageName, sha256],
    );
    return rows[0] && toRecord(rows[0]);
  },

  /** The oldest live blob with that digest, in any storage. */
  async findLiveAnyStorage(db: Knex, sha256: string): Promise<BlobRecord | undefined> {
    const { rows } = await db.raw<{ rows: BlobRow[] }>(
      `SELECT ${COLUMNS} FROM content_blobs WHERE sha256 = ? AND deleting_since IS NULL ORDER BY created_at, storage_name LIMIT 1`,
      [sha256],
    );
    return rows[0] && toRecord(rows[0]);
  },

  /** Which of the digests a storage holds live. */
  async findLiveDigests(db: Knex, storageName: string, digests: string[]): Promise<Set<string>> {
    if (digests.length === 0) return new Set();
    const { rows } = await db.raw<{ rows: { sha256: string }[] }>(
      'SELECT sha256 FROM content_blobs WHERE storage_name = ? AND sha256 = ANY(?::varchar[]) AND deleting_since IS NULL',
      [storageName, digests],
    );
    return new Set(rows.map((r) => r.sha256));
  },

  /**
   * Extends the pin of live blobs to at least `until` (a blob a client was
   * just told about survives until it can reference it). Atomic with respect
   * to deletion: a blob already marked for deletion is not returned.
   */
  async extendPins(db: Knex, storageName: string, digests: string[], until: Date): Promise<BlobRecord[]> {
    if (digests.length === 0) return [];
    const { rows } = await db.raw<{ rows: BlobRow[] }>(
      `UPDATE content_blobs SET pinned_until = GREATEST(pinned_until, ?::timestamptz)
        WHERE storage_name = ? AND sha256 = ANY(?::varchar[]) AND deleting_since IS NULL
        RETURNING ${COLUMNS}`,
      [until, storageName, digests],
    );
    return rows.map(toRecord);
  },

  /**
   * Records a committed blob pinned until `pinnedUntil`, or extends the pin of
   * the existing live record. Undefined when a record of the digest is being
   * deleted (the caller waits for the deletion to finish).
   */
  async upsertCommitted(
    db: Knex,
    blob: { storageName: string; sha256: string; size: number; storageConfig: Record<string, unknown>; now: Date; pinnedUntil: Date },
  ): Promise<BlobRecord | undefined> {
    const { rows } = await db.raw<{ rows: BlobRow[] }>(
      `INSERT INTO content_blobs (storage_name, sha256, size, storage_config, created_at, pinned_until)
       VALUES (?, ?, ?, ?::jsonb, ?, ?)
       ON CONFLICT (storage_name, sha256) DO UPDATE SET pinned_until = GREATEST(content_blobs.pinned_until, EXCLUDED.pinned_until)
         WHERE content_blobs.deleting_since IS NULL
       RETURNING ${COLUMNS}`,
      [blob.storageName, blob.sha256, blob.size, JSON.stringify(blob.storageConfig), blob.now, blob.pinnedUntil],
    );
    return rows[0] && toRecord(rows[0]);
  },

  /** Whether a record of the digest is marked for deletion. */
  async isDeleting(db: Knex, storageName: string, sha256: string): Promise<boolean> {
    const { rows } = await db.raw<{ rows: unknown[] }>(
      'SELECT 1 FROM content_blobs WHERE storage_name = ? AND sha256 = ? AND deleting_since IS NOT NULL',
      [storageName, sha256],
    );
    return rows.length > 0;
  },

  /**
   * Locks live blobs against deletion until the transaction ends (FOR SHARE:
   * a concurrent delete waits, then sees the new references) and answers them.
   */
  async lockLive(trx: Knex.Transaction, keys: BlobKey[]): Promise<BlobRecord[]> {
    if (keys.length === 0) return [];
    const list = keyList(keys);
    const { rows } = await trx.raw<{ rows: BlobRow[] }>(
      `SELECT ${COLUMNS} FROM content_blobs WHERE (storage_name, sha256) IN (${list.sql}) AND deleting_since IS NULL FOR SHARE`,
      list.bindings,
    );
    return rows.map(toRecord);
  },

  /** Drops the pins of blobs now referenced by a content. */
  async clearPins(trx: Knex.Transaction, keys: BlobKey[]): Promise<void> {
    if (keys.length === 0) return;
    const list = keyList(keys);
    await trx.raw(`UPDATE content_blobs SET pinned_until = NULL WHERE (storage_name, sha256) IN (${list.sql})`, list.bindings);
  },

  /**
   * Marks for deletion those of the blobs that no content references and
   * whose pin (if any) has passed. Two statements on purpose: the first
   * locks the rows (waiting for any transaction that is adding a reference),
   * the second takes a fresh snapshot, so it sees references committed meanwhile.
   */
  async markUnreferenced(trx: Knex.Transaction, keys: BlobKey[], now: Date): Promise<BlobKey[]> {
    if (keys.length === 0) return [];
    const list = keyList(keys);
    await trx.raw(`SELECT 1 FROM content_blobs WHERE (storage_name, sha256) IN (${list.sql}) AND deleting_since IS NULL FOR UPDATE`, list.bindings);
    const { rows } = await trx.raw<{ rows: { storage_name: string; sha256: string }[] }>(
      `UPDATE content_blobs b SET deleting_since = ?
        WHERE (b.storage_name, b.sha256) IN (${list.sql}) AND b.deleting_since IS NULL
          AND (b.pinned_until IS NULL OR b.pinned_until <= ?)
          AND NOT EXISTS (SELECT 1 FROM labox_contents c WHERE c.storage_name = b.storage_name AND c.content_hash = b.sha256)
        RETURNING b.storage_name, b.sha256`,
      [now, ...list.bindings, now],
    );
    return rows.map((r) => ({ storageName: r.storage_name, sha256: r.sha256 }));
  },

  /** Live blobs no content references and whose pin has passed (or that lost their last reference), oldest first. */
  async findCollectable(db: Knex, now: Date, limit: number): Promise<BlobKey[]> {
    const { rows } = await db.raw<{ rows: { storage_name: string; sha256: string }[] }>(
      `SELECT b.storage_name, b.sha256 FROM content_blobs b
        WHERE b.deleting_since IS NULL AND (b.pinned_until IS NULL OR b.pinned_until <= ?)
          AND NOT EXISTS (SELECT 1 FROM labox_contents c WHERE c.storage_name = b.storage_name AND c.content_hash = b.sha256)
        ORDER BY b.created_at LIMIT ?`,
      [now, limit],
    );
    return rows.map((r) => ({ storageName: r.storage_name, sha256: r.sha256 }));
  },

  /** Blobs marked for deletion before `before` (a deleter that stopped half way). */
  async findStuckDeletions(db: Knex, before: Date, limit: number): Promise<BlobKey[]> {
    const { rows } = await db.raw<{ rows: { storage_name: string; sha256: string }[] }>(
      'SELECT storage_name, sha256 FROM content_blobs WHERE deleting_since IS NOT NULL AND deleting_since <= ? ORDER BY deleting_since LIMIT ?',
      [before, limit],
    );
    return rows.map((r) => ({ storageName: r.storage_name, sha256: r.sha256 }));
  },

  /** Removes the record of a blob whose bytes were deleted. */
  async removeDeleted(db: Knex, key: BlobKey): Promise<void> {
    await db.raw('DELETE FROM content_blobs WHERE storage_name = ? AND sha256 = ? AND deleting_since IS NOT NULL', [key.storageName, key.sha256]);
  },
};
