/**
 * Runs a service's own migrations, recorded in its own knex migrations table.
 */
import type { Knex } from 'knex';

/** One migration: a unique ordered name, `up` and `down`. */
export interface MigrationModule {
  name: string;
  up(knex: Knex): Promise<void>;
  down(knex: Knex): Promise<void>;
}

/** A knex migration source over an in-memory list, so no files are loaded at run time. */
function sourceOf(migrations: MigrationModule[]): Knex.MigrationSource<MigrationModule> {
  return {
    getMigrations: async () => migrations,
    getMigrationName: (m) => m.name,
    getMigration: async (m) => m,
  };
}

/** What to do: apply every pending migration, or revert the last batch or all. */
export type MigrateAction = 'latest' | 'rollback' | 'rollback-all';

/** Applies or reverts a service's migrations; resolves with the names applied or reverted. */
export async function runMigrations(
  knex: Knex,
  migrations: MigrationModule[],
  tableName: string,
  action: MigrateAction = 'latest',
): Promise<string[]> {
  const config = { migrationSource: sourceOf(migrations), tableName };
  const [, names] =
    action === 'latest'
      ? await knex.migrate.latest(config)
      : await knex.migrate.rollback(config, action === 'rollback-all');
  return names as string[];
}
