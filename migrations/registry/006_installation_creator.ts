/**
 * Who created each installation job: `installations.created_by`, the DID of
 * the caller whose token created it (the target node itself, or an operator
 * of REGISTRY_OPERATORS scheduling work for a node).
 *
 * Before this migration only a node could create jobs, and only for itself,
 * so every existing row gets `created_by = target_node_id`. The column is
 * then NOT NULL. An index on (created_by, created_at) serves the
 * ListInstallations of a caller who is not an operator: the jobs it created
 * or that target it.
 */
import type { Knex } from 'knex';

/** Adds `installations.created_by`, filled with the target node for existing jobs. */
export async function up(knex: Knex): Promise<void> {
  await knex.raw('ALTER TABLE installations ADD COLUMN created_by TEXT');
  await knex.raw('UPDATE installations SET created_by = target_node_id WHERE created_by IS NULL');
  await knex.raw('ALTER TABLE installations ALTER COLUMN created_by SET NOT NULL');
  await knex.raw('CREATE INDEX idx_installations_created_by ON installations (created_by, created_at DESC, job_id DESC)');
}

/** Drops `installations.created_by` and its index. */
export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP INDEX IF EXISTS idx_installations_created_by');
  await knex.raw('ALTER TABLE installations DROP COLUMN IF EXISTS created_by');
}
