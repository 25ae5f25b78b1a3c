/**
 * The tables of the database storage, created by the content store's
 * migration `002_blobs_and_uploads`.
 */

/** Committed blobs: `sha256 VARCHAR(64) PK, size BIGINT, data BYTEA, created_at`. */
export const BLOB_DATA_TABLE = 'content_blob_data';

/** Staged parts: `upload_id UUID, start_offset BIGINT, data BYTEA`, PK (upload_id, start_offset). */
export const UPLOAD_PARTS_TABLE = 'content_upload_parts';
