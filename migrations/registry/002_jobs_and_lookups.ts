/**
 * What the registry's queries need beyond the seed: installation leases,
 * attempts, the resolved install order and a log line count, and the indexes
 * of package lookups, job claims, lease sweeps and keyset pagination.
 */
import type { Knex } from 'knex';

/** Adds the job columns and the lookup indexes. */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    ALTER TABLE installations
      ADD COLUMN lease_expires_at TIMESTAMPTZ,
      ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0,
      ADD COLUMN install_order TEXT[] NOT NULL DEFAULT '{}',
      ADD COLUMN log_count INTEGER NOT NULL DEFAULT 0,
      ADD COLUMN updated_at TIMESTAMPTZ NOT NULL DEFAULT NOW()`);
  // Newest-first keyset pagination, and the name lookups of dependency resolution.
  await knex.raw('CREATE INDEX idx_packages_created ON packages (created_at DESC, package_id DESC)');
  await knex.raw("CREATE INDEX idx_packages_name ON packages ((manifest->>'name'), created_at DESC)");
  await knex.raw('CREATE INDEX idx_packages_author ON packages (author_did, created_at DESC)');
  // A node's agent claims its oldest pending job.
  await knex.raw('CREATE INDEX idx_installations_node ON installations (target_node_id, status, created_at)');
  await knex.raw('CREATE INDEX idx_installations_package ON installations (package_id, created_at DESC)');
  await knex.raw('CREATE INDEX idx_installations_created ON installations (created_at DESC, job_id DESC)');
  await knex.raw("CREATE INDEX idx_installations_lease ON installations (lease_expires_at) WHERE status = 'running'");
}

/** Drops them again. */
export async function down(knex: Knex): Promise<void> {
  for (const index of [
    'idx_installations_lease',
    'idx_installations_created',
    'idx_installations_package',
    'idx_installations_node',
    'idx_packages_author',
    'idx_packages_name',
    'idx_packages_created',
  ]) {
    await knex.raw(`DROP INDEX IF EXISTS ${index}`);
  }
  await knex.raw(`
    ALTER TABLE installations
      DROP COLUMN updated_at,
      DROP COLUMN log_count,
      DROP COLUMN install_order,
      DROP COLUMN attempts,
      DROP COLUMN lease_expires_at`);
}
