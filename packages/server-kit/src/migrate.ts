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

/**
 * Errors of replicas starting at once on a fresh database: knex's lock
 * table protects the migrations themselves, but creating the migrations and
 * lock tables races (duplicate table or type, or the unique index of
 * pg_type), and a replica that finds the lock taken gives up. All go away on
 * a retry.
 */
function isStartupRace(err: unknown): boolean {
  const e = err as { code?: unknown; name?: unknown; message?: unknown };
  return e.code === '42P07' || e.code === '42710' || e.code === '23505' || e.name === 'MigrationLocked' || /already locked/i.test(String(e.message ?? ''));
}

/** Applies or reverts a service's migrations; resolves with the names applied or reverted. */
export async function runMigrations(
  knex: Knex,
  migrations: MigrationModule[],
  tableName: string,
  action: MigrateAction = 'latest',
  retry: { attempts: number; delayMs: number } = { attempts: 20, delayMs: 250 },
): Promise<string[]> {
  const config = { migrationSource: sourceOf(migrations), tableName };
  for (let attempt = 1; ; attempt++) {
    try {
      const [, names] =
        action === 'latest'
          ? await knex.migrate.latest(config)
          : await knex.migrate.rollback(config, action === 'rollback-all');
      return names as string[];
    } catch (err) {
      if (attempt >= retry.attempts || !isStartupRace(err)) throw err;
      await new Promise((resolve) => setTimeout(resolve, retry.delayMs));
    }
  }
}
