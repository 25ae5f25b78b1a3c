/**
 * Migration 006 (installation creator) on PostgreSQL and PGlite: jobs made
 * before it (when only a node could create jobs, for itself) get their node
 * as creator; the column is then required; rollback drops it.
 */
import { REGISTRY_MIGRATIONS_TABLE, registryMigrations } from '@griot/migrations';
import { runMigrations } from '@griot/server-kit';
import { createTestDatabase, DB_KINDS, type TestDatabase } from '@griot/test/support/database';

describe.each(DB_KINDS)('migration 006 (installation creator) on %s', (kind) => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await createTestDatabase(kind, 'registry', { migrate: false });
  });
  afterAll(() => t.drop());

  it('fills created_by with the target node for existing jobs, requires it, indexes it and rolls back', async () => {
    await runMigrations(t.db.knex, registryMigrations.filter((m) => m.name < '006'), REGISTRY_MIGRATIONS_TABLE);
    const packageId = 'a'.repeat(64);
    await t.db.knex.raw(
      `INSERT INTO packages (package_id, manifest, artifact_url, author_did, signature) VALUES (?, '{"name":"m","version":"1.0.0"}'::jsonb, 'griot-content://sha256/' || ?, 'did:key:a', 'sig')`,
      [packageId, packageId],
    );
    await t.db.knex.raw("INSERT INTO installations (package_id, target_node_id, status) VALUES (?, 'did:key:n1', 'pending'), (?, 'did:key:n2', 'completed')", [packageId, packageId]);

    expect(await runMigrations(t.db.knex, registryMigrations, REGISTRY_MIGRATIONS_TABLE)).toContain('006_installation_creator');
    const { rows } = await t.db.knex.raw<{ rows: { target_node_id: string; created_by: string }[] }>('SELECT target_node_id, created_by FROM installations ORDER BY target_node_id');
    expect(rows).toEqual([
      { target_node_id: 'did:key:n1', created_by: 'did:key:n1' },
      { target_node_id: 'did:key:n2', created_by: 'did:key:n2' },
    ]);
    await expect(t.db.knex.raw("INSERT INTO installations (package_id, target_node_id, status) VALUES (?, 'did:key:n3', 'pending')", [packageId])).rejects.toMatchObject({ code: '23502' });
    const { rows: indexes } = await t.db.knex.raw<{ rows: { indexdef: string }[] }>("SELECT indexdef FROM pg_indexes WHERE indexname = 'idx_installations_created_by'");
    expect(indexes[0]?.indexdef).toMatch(/\(created_by, created_at DESC, job_id DESC\)/);

    // The last batch is 006 and any later migration.
    expect((await runMigrations(t.db.knex, registryMigrations, REGISTRY_MIGRATIONS_TABLE, 'rollback')).sort()).toEqual(
      registryMigrations.filter((m) => m.name >= '006').map((m) => m.name),
    );
    const { rows: cols } = await t.db.knex.raw<{ rows: unknown[] }>("SELECT 1 FROM information_schema.columns WHERE table_name = 'installations' AND column_name = 'created_by'");
    expect(cols).toEqual([]);
  });
});
