/**
 * What the content store adds to Labox: a record of every committed blob (so
 * uploads deduplicate and unreferenced bytes can be found and deleted), the
 * resumable upload sessions, and the tables of the in-database storage.
 */
import type { Knex } from 'knex';

/** Creates the blob, upload and inline-storage tables. */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE TABLE content_blobs (
      storage_name TEXT NOT NULL,
      sha256 VARCHAR(64) NOT NULL,
      size BIGINT NOT NULL,
      storage_config JSONB NOT NULL,
      created_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
      -- An unreferenced blob is kept until then, so that a client has time to
      -- reference what it just uploaded; NULL once a content references it.
      pinned_until TIMESTAMPTZ,
      -- Set when the blob is being deleted; a sweeper finishes the deletion
      -- of the bytes if the process stopped half way.
      deleting_since TIMESTAMPTZ,
      PRIMARY KEY (storage_name, sha256)
    )`);
  await knex.raw('CREATE INDEX idx_content_blobs_sha256 ON content_blobs (sha256)');
  await knex.raw(`
    CREATE TABLE content_uploads (
      upload_id UUID PRIMARY KEY,
      storage_name TEXT NOT NULL,
      declared_sha256 VARCHAR(64),
      declared_size BIGINT,
      committed_size BIGINT NOT NULL DEFAULT 0,
      complete BOOLEAN NOT NULL DEFAULT FALSE,
      blob_sha256 VARCHAR(64),
      created_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
      updated_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
      expires_at TIMESTAMPTZ NOT NULL
    )`);
  await knex.raw('CREATE INDEX idx_content_uploads_expires ON content_uploads (expires_at)');
  await knex.raw(`
    CREATE TABLE content_blob_data (
      sha256 VARCHAR(64) PRIMARY KEY,
      size BIGINT NOT NULL,
      data BYTEA NOT NULL,
      created_at TIMESTAMPTZ NOT NULL DEFAULT NOW()
    )`);
  await knex.raw(`
    CREATE TABLE content_upload_parts (
      upload_id UUID NOT NULL,
      start_offset BIGINT NOT NULL,
      data BYTEA NOT NULL,
      PRIMARY KEY (upload_id, start_offset)
    )`);
}

/** Drops the tables. */
export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP TABLE content_upload_parts');
  await knex.raw('DROP TABLE content_blob_data');
  await knex.raw('DROP TABLE content_uploads');
  await knex.raw('DROP TABLE content_blobs');
}
