/**
 * Test databases: a fresh PostgreSQL database on the machine's server (created
 * and dropped per suite), or an in-memory PGlite database, each migrated with
 * a service's own migrations. `GRIOT_TEST_DATABASES` (comma-separated:
 * postgres, pglite; default both) picks which kinds the suites run against.
 */
import { randomBytes } from 'node:crypto';
import { type Database, openDatabase, runMigrations, silentLogger } from '@griot/server-kit';
import { CONTENT_STORE_MIGRATIONS_TABLE, contentStoreMigrations, REGISTRY_MIGRATIONS_TABLE, registryMigrations } from '@griot/migrations';
import pg from 'pg';

/** The kinds of database a suite can run against. */
export type DbKind = 'postgres' | 'pglite';

/** The administrative URL of the test PostgreSQL server. */
export const POSTGRES_ADMIN_URL = process.env.GRIOT_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/** The kinds of database to run database suites against. */
export const DB_KINDS: DbKind[] = (process.env.GRIOT_TEST_DATABASES ?? 'postgres,pglite')
  .split(',')
  .map((s) => s.trim())
  .filter((s): s is DbKind => s === 'postgres' || s === 'pglite');

/** The services whose migrations a test database can carry. */
export const SERVICE_MIGRATIONS = {
  registry: { migrations: registryMigrations, tableName: REGISTRY_MIGRATIONS_TABLE },
  'content-store': { migrations: contentStoreMigrations, tableName: CONTENT_STORE_MIGRATIONS_TABLE },
} as const;

/** A database made for one suite. */
export interface TestDatabase {
  /** The open database. */
  db: Database;
  /** Its URL, for PostgreSQL (to start a service process on it). */
  url?: string;
  /** Closes and drops it. */
  drop(): Promise<void>;
}

/** Creates an empty PostgreSQL database and returns its URL and a function that drops it. */
export async function createPostgresDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `griot_test_${randomBytes(6).toString('hex')}`;
  await adminQuery(`CREATE DATABASE ${name}`);
  const url = new URL(POSTGRES_ADMIN_URL);
  url.pathname = `/${name}`;
  return { url: url.toString(), drop: () => adminQuery(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) };
}

/**
 * Creates a test database of a kind, migrated for a service unless
 * `migrate: false`.
 */
export async function createTestDatabase(
  kind: DbKind,
  service: keyof typeof SERVICE_MIGRATIONS,
  options: { migrate?: boolean } = {},
): Promise<TestDatabase> {
  const created = kind === 'postgres' ? await createPostgresDatabase() : undefined;
  const db = await openDatabase({ url: created?.url, dataDir: ':memory:', name: service, logger: silentLogger(), poolMax: 5 });
  if (options.migrate !== false) {
    const { migrations, tableName } = SERVICE_MIGRATIONS[service];
    await runMigrations(db.knex, migrations, tableName);
  }
  return {
    db,
    url: created?.url,
    async drop() {
      await db.close();
      await created?.drop();
    },
  };
}

async function adminQuery(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: POSTGRES_ADMIN_URL });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}
