/**
 * The Labox schema: `labox_manifests` (one per stored object) and
 * `labox_contents` (one per content of an object, pointing at its bytes).
 */
import type { Knex } from 'knex';

/** Creates the Labox tables, the serializer type enum and their indexes. */
export async function up(knex: Knex): Promise<void> {
  await knex.raw("CREATE TYPE labox_serializer_type AS ENUM ('value', 'stream')");
  await knex.raw(`
    CREATE TABLE labox_manifests (
      id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
      created_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
      class_id UUID NOT NULL,
      unpacker_name TEXT NOT NULL,
      tags JSONB NOT NULL DEFAULT '{}'::jsonb
    )`);
  // Tag queries are JSONB containment (@>), which jsonb_path_ops indexes best.
  await knex.raw('CREATE INDEX idx_labox_manifests_tags ON labox_manifests USING GIN (tags jsonb_path_ops)');
  // Listing is ordered by (created_at, id) and filtered by class.
  await knex.raw('CREATE INDEX idx_labox_manifests_created ON labox_manifests (created_at, id)');
  await knex.raw('CREATE INDEX idx_labox_manifests_class ON labox_manifests (class_id, created_at, id)');
  await knex.raw(`
    CREATE TABLE labox_contents (
      id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
      created_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
      manifest_id UUID NOT NULL REFERENCES labox_manifests (id) ON DELETE CASCADE,
      content_key TEXT NOT NULL,
      content_type TEXT NOT NULL,
      content_encoding TEXT,
      content_size BIGINT NOT NULL,
      content_hash TEXT NOT NULL,
      content_hash_algorithm TEXT NOT NULL,
      serializer_config JSONB NOT NULL DEFAULT '{}'::jsonb,
      serializer_name TEXT NOT NULL,
      serializer_type labox_serializer_type NOT NULL,
      storage_name TEXT NOT NULL,
      storage_config JSONB NOT NULL,
      CONSTRAINT labox_contents_manifest_key UNIQUE (manifest_id, content_key)
    )`);
  // Deleting bytes asks whether any content still references a digest.
  await knex.raw('CREATE INDEX idx_labox_contents_blob ON labox_contents (storage_name, content_hash)');
}

/** Drops the Labox tables and the enum. */
export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP TABLE labox_contents');
  await knex.raw('DROP TABLE labox_manifests');
  await knex.raw('DROP TYPE labox_serializer_type');
}
