/**
 * SQL of `content_uploads`: one row per resumable upload session.
 */
import type { Knex } from 'knex';
import { withSqlErrors } from '@griot/server-kit';

/** A resumable upload session. */
export interface UploadRecord {
  /** The upload's id (UUID). */
  uploadId: string;
  /** The storage it writes to. */
  storageName: string;
  /** The SHA-256 the client declared, if any. */
  declaredSha256: string | null;
  /** The size the client declared, if any. */
  declaredSize: number | null;
  /** Bytes durably staged and recorded: the offset to continue from. */
  committedSize: number;
  /** True once the blob is committed. */
  complete: boolean;
  /** The committed blob's digest, once complete. */
  blobSha256: string | null;
  /** When the session is discarded if not resumed. */
  expiresAt: Date;
}

interface UploadRow {
  upload_id: string;
  storage_name: string;
  declared_sha256: string | null;
  declared_size: number | string | null;
  committed_size: number | string;
  complete: boolean;
  blob_sha256: string | null;
  expires_at: Date;
}

const COLUMNS = 'upload_id, storage_name, declared_sha256, declared_size, committed_size, complete, blob_sha256, expires_at';

function toRecord(row: UploadRow): UploadRecord {
  return {
    uploadId: row.upload_id,
    storageName: row.storage_name,
    declaredSha256: row.declared_sha256,
    declaredSize: row.declared_size === null ? null : Number(row.declared_size),
    committedSize: Number(row.committed_size),
    complete: row.complete,
    blobSha256: row.blob_sha256,
    expiresAt: new Date(row.expires_at),
  };
}

/** The SQL of upload sessions. */
export const uploadsRepository = {
  /** The session, if it exists. */
  async find(db: Knex, uploadId: string): Promise<UploadRecord | undefined> {
    const { rows } = await db.raw<{ rows: UploadRow[] }>(`SELECT ${COLUMNS} FROM content_uploads WHERE upload_id = ?`, [uploadId]);
    return rows[0] && toRecord(rows[0]);
  },

  /** Creates a session at offset 0; ALREADY_EXISTS when the id is taken (a concurrent start). */
  async create(
    db: Knex,
    upload: { uploadId: string; storageName: string; declaredSha256: string | null; declaredSize: number | null; now: Date; expiresAt: Date },
  ): Promise<UploadRecord> {
    return withSqlErrors({ resourceType: 'griot.content.v1.Upload', name: upload.uploadId }, async () => {
      const { rows } = await db.raw<{ rows: UploadRow[] }>(
        `INSERT INTO content_uploads (upload_id, storage_name, declared_sha256, declared_size, committed_size, complete, created_at, updated_at, expires_at)
         VALUES (?, ?, ?, ?, 0, FALSE, ?, ?, ?) RETURNING ${COLUMNS}`,
        [upload.uploadId, upload.storageName, upload.declaredSha256, upload.declaredSize, upload.now, upload.now, upload.expiresAt],
      );
      return toRecord(rows[0]!);
    });
  },

  /** Records the committed size of an unfinished session and pushes its expiry back. */
  async recordProgress(db: Knex, uploadId: string, committedSize: number, now: Date, expiresAt: Date): Promise<void> {
    await db.raw('UPDATE content_uploads SET committed_size = ?, updated_at = ?, expires_at = ? WHERE upload_id = ? AND NOT complete', [
      committedSize,
      now,
      expiresAt,
      uploadId,
    ]);
  },

  /** Marks a session complete with its blob. */
  async complete(db: Knex, uploadId: string, sha256: string, size: number, now: Date, expiresAt: Date): Promise<UploadRecord | undefined> {
    const { rows } = await db.raw<{ rows: UploadRow[] }>(
      `UPDATE content_uploads SET complete = TRUE, blob_sha256 = ?, committed_size = ?, updated_at = ?, expires_at = ?
        WHERE upload_id = ? RETURNING ${COLUMNS}`,
      [sha256, size, now, expiresAt, uploadId],
    );
    return rows[0] && toRecord(rows[0]);
  },

  /** Deletes a session. */
  async remove(db: Knex, uploadId: string): Promise<void> {
    await db.raw('DELETE FROM content_uploads WHERE upload_id = ?', [uploadId]);
  },

  /** Sessions whose expiry has passed, oldest first. */
  async findExpired(db: Knex, now: Date, limit: number): Promise<UploadRecord[]> {
    const { rows } = await db.raw<{ rows: UploadRow[] }>(
      `SELECT ${COLUMNS} FROM content_uploads WHERE expires_at <= ? ORDER BY expires_at LIMIT ?`,
      [now, limit],
    );
    return rows.map(toRecord);
  },

  /** Deletes a session only if it is still expired (it was not resumed meanwhile). */
  async removeIfExpired(db: Knex, uploadId: string, now: Date): Promise<boolean> {
    const { rows } = await db.raw<{ rows: unknown[] }>('DELETE FROM content_uploads WHERE upload_id = ? AND expires_at <= ? RETURNING upload_id', [uploadId, now]);
    return rows.length > 0;
  },
};
