/**
 * Replicas starting at once on a fresh PostgreSQL database all migrate it:
 * the race to create knex's migrations and lock tables is retried.
 */
import type { Knex } from 'knex';
import { openDatabase, type Database } from './database';
import { silentLogger } from './logger';
import { runMigrations, type MigrationModule } from './migrate';
import { createPostgresDatabase, DB_KINDS } from '../../../test/support/database';

const migrations: MigrationModule[] = [
  {
    name: '001_things',
    up: (knex: Knex) => knex.raw('CREATE TABLE things (id INT PRIMARY KEY)').then(() => undefined),
    down: (knex: Knex) => knex.raw('DROP TABLE things').then(() => undefined),
  },
];

(DB_KINDS.includes('postgres') ? it : it.skip)('lets four replicas migrate a fresh database at once', async () => {
  const pg = await createPostgresDatabase();
  const dbs: Database[] = [];
  try {
    for (let i = 0; i < 4; i++) dbs.push(await openDatabase({ url: pg.url, dataDir: ':memory:', name: 'test', logger: silentLogger(), poolMax: 2 }));
    const results = await Promise.all(dbs.map((db) => runMigrations(db.knex, migrations, 'test_migrations')));
    // Exactly one replica applied the migration; the others found nothing to do.
    expect(results.flat()).toEqual(['001_things']);
    const { rows } = await dbs[0]!.knex.raw<{ rows: { n: number }[] }>('SELECT count(*)::int AS n FROM test_migrations');
    expect(rows[0]!.n).toBe(1);
  } finally {
    await Promise.all(dbs.map((db) => db.close()));
    await pg.drop();
  }
});
