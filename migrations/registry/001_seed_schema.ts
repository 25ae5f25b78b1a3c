/**
 * The registry's seed schema, exactly as the Griot class document gives it:
 * `packages` (content-addressed, signed manifests) and `installations` (the
 * auditable log of installation jobs).
 */
import type { Knex } from 'knex';

/** Creates `packages` and `installations` with the seed's columns and indexes. */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE TABLE packages (
      package_id VARCHAR(64) PRIMARY KEY,
      manifest JSONB NOT NULL,
      artifact_url TEXT NOT NULL,
      author_did VARCHAR(255) NOT NULL,
      signature TEXT NOT NULL,
      created_at TIMESTAMPTZ DEFAULT NOW()
    )`);
  await knex.raw('CREATE INDEX idx_packages_manifest ON packages USING GIN (manifest)');
  await knex.raw(`
    CREATE TABLE installations (
      job_id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
      package_id VARCHAR(64) NOT NULL REFERENCES packages (package_id),
      target_node_id VARCHAR(255) NOT NULL,
      status VARCHAR(50) NOT NULL,
      status_message TEXT,
      logs TEXT[],
      created_at TIMESTAMPTZ DEFAULT NOW(),
      completed_at TIMESTAMPTZ
    )`);
  await knex.raw('CREATE INDEX idx_installations_status ON installations (status)');
}

/** Drops both tables. */
export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP TABLE installations');
  await knex.raw('DROP TABLE packages');
}
