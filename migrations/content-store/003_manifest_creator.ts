/**
 * Who created each manifest: `labox_manifests.creator_did`, the DID of the
 * caller whose token created it. Only that caller, or a DID of
 * CONTENT_OPERATORS, may delete the manifest.
 *
 * Manifests created before this migration have no known creator and keep
 * `creator_did` NULL: only operators may delete those.
 */
import type { Knex } from 'knex';

/** Adds the nullable `labox_manifests.creator_did`. */
export async function up(knex: Knex): Promise<void> {
  await knex.raw('ALTER TABLE labox_manifests ADD COLUMN creator_did TEXT');
}

/** Drops `labox_manifests.creator_did`. */
export async function down(knex: Knex): Promise<void> {
  await knex.raw('ALTER TABLE labox_manifests DROP COLUMN IF EXISTS creator_did');
}
