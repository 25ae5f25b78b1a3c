/**
 * Replicas starting at once on a fresh PostgreSQL database all migrate it:
 * they take turns under an advisory lock, so they never race to create
 * knex's migrations and lock tables.
 */
import type { Knex } from 'knex';
import { openDatabase, type Database } from './database';
import { silentLogger } from './logger';
import { runMigrations, type MigrationModule } from './migrate';
import { createPostgresDatabase, DB_KINDS } from '@griot/test/support/database';

const migrations: MigrationModule[] = [
  {
    name: '001_things',
    up: (knex: Knex) => knex.raw('CREATE TABLE things (id INT PRIMARY KEY)').then(() => undefined),
    down: (knex: Knex) => knex.raw('DROP TABLE things').then(() => undefined),
  },
];

(DB_KINDS.includes('postgres') ? it : it.skip)('lets eight replicas migrate a fresh database at once, leaving knex one lock row', async () => {
  const pg = await createPostgresDatabase();
  const dbs: Database[] = [];
  try {
    for (let i = 0; i < 8; i++) dbs.push(await openDatabase({ url: pg.url, dataDir: ':memory:', name: 'test', logger: silentLogger(), poolMax: 2 }));
    const results = await Promise.all(dbs.map((db) => runMigrations(db.knex, migrations, 'test_migrations')));
    // Exactly one replica applied the migration; the others found nothing to do.
    expect(results.flat()).toEqual(['001_things']);
    const { rows } = await dbs[0]!.knex.raw<{ rows: { n: number }[] }>('SELECT count(*)::int AS n FROM test_migrations');
    expect(rows[0]!.n).toBe(1);
    // Two lock rows (replicas racing to create them) would lock every later migration out for good.
    const lock = await dbs[0]!.knex.raw<{ rows: { n: number; locked: number }[] }>('SELECT count(*)::int AS n, max(is_locked)::int AS locked FROM test_migrations_lock');
    expect(lock.rows[0]).toEqual({ n: 1, locked: 0 });
    await expect(runMigrations(dbs[1]!.knex, migrations, 'test_migrations', 'latest', { attempts: 1, delayMs: 0 })).resolves.toEqual([]);
  } finally {
    await Promise.all(dbs.map((db) => db.close()));
    await pg.drop();
  }
});
