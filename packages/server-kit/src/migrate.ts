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

/** The raw pg connection knex hands out (only `query` is used). */
interface PgConnection {
  query(text: string, values: unknown[]): Promise<unknown>;
}

/**
 * Runs `fn` holding a PostgreSQL advisory lock named after the migrations
 * table, on a connection of its own, so that replicas migrate one at a time.
 * knex's own lock cannot do this on a fresh database: two replicas may both
 * create its lock row, and then neither can ever take the lock. Embedded
 * PGlite (one process) and a pool of one connection go without.
 */
async function serialized<T>(knex: Knex, tableName: string, fn: () => Promise<T>): Promise<T> {
  const client = knex.client as { config?: { client?: unknown; pool?: { max?: number } }; acquireConnection(): Promise<PgConnection>; releaseConnection(c: PgConnection): Promise<void> };
  // PGlite's knex client is a class; a PostgreSQL server's is named 'pg'.
  if (client.config?.client !== 'pg' || (client.config.pool?.max ?? 10) < 2) return fn();
  const key = `griot.migrations:${tableName}`;
  const connection = await client.acquireConnection();
  try {
    await connection.query('SELECT pg_advisory_lock(hashtext($1))', [key]);
    try {
      return await fn();
    } finally {
      await connection.query('SELECT pg_advisory_unlock(hashtext($1))', [key]).catch(() => undefined);
    }
  } finally {
    await client.releaseConnection(connection);
  }
}

/** Applies or reverts a service's migrations; resolves with the names applied or reverted. */
export async function runMigrations(
  knex: Knex,
  migrations: MigrationModule[],
  tableName: string,
  action: MigrateAction = 'latest',
  retry: { attempts: number; delayMs: number } = { attempts: 20, delayMs: 250 },
): Promise<string[]> {
  return serialized(knex, tableName, () => migrate(knex, migrations, tableName, action, retry));
}

async function migrate(knex: Knex, migrations: MigrationModule[], tableName: string, action: MigrateAction, retry: { attempts: number; delayMs: number }): Promise<string[]> {
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
