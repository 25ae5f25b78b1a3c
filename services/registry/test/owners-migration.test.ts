/**
 * Migration 005 (package owners, immutable versions, yanks) on a database
 * holding what the old rules allowed, on PostgreSQL and PGlite: every row is
 * kept, each name's owner is the author of its first registration, the
 * registrations that break the new rules are yanked with reasons and
 * audited, the unique index holds on unyanked name@version, and rollback
 * then latest again works.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Knex } from 'knex';
import { REGISTRY_MIGRATIONS_TABLE, registryMigrations } from '@griot/migrations';
import { PageTokens, runMigrations, silentLogger, type Logger } from '@griot/server-kit';
import { createTestDatabase, DB_KINDS, type TestDatabase } from '@griot/test/support/database';
import type { ArtifactChecker } from '../src/clients/content-store-client';
import { logMigrationYanks } from '../src/domain/owners';
import { Packages } from '../src/domain/packages';
import { newIdentity } from './support/harness';

const BEFORE = registryMigrations.slice(0, registryMigrations.findIndex((m) => m.name === '005_package_owners'));

interface OldRow {
  id: string;
  name: string;
  version: string;
  author: string;
  at: string | null;
}

function id(label: string): string {
  return createHash('sha256').update(label).digest('hex');
}

async function insertOld(knex: Knex, row: OldRow): Promise<void> {
  await knex.raw('INSERT INTO packages (package_id, manifest, artifact_url, author_did, signature, created_at) VALUES (?, ?::jsonb, ?, ?, ?, ?)', [
    row.id,
    JSON.stringify({ name: row.name, version: row.version, nodeClass: 'worker', dependencies: {}, author: row.author }),
    `griot-content://sha256/${row.id}`,
    row.author,
    'z-signature',
    row.at,
  ]);
}

describe.each(DB_KINDS)('migration 005 on %s', (kind) => {
  let t: TestDatabase;
  const alice = newIdentity().did;
  const bob = newIdentity().did;
  const rows: OldRow[] = [
    { id: id('hello-1.0.0-alice'), name: 'hello', version: '1.0.0', author: alice, at: '2024-01-01T00:00:00Z' },
    { id: id('hello-1.0.0-bob'), name: 'hello', version: '1.0.0', author: bob, at: '2024-01-02T00:00:00Z' },
    { id: id('hello-1.0.1-bob'), name: 'hello', version: '1.0.1', author: bob, at: '2024-01-03T00:00:00Z' },
    { id: id('hello-1.0.0-alice-again'), name: 'hello', version: '1.0.0', author: alice, at: '2024-01-04T00:00:00Z' },
    { id: id('hello-1.1.0-alice'), name: 'hello', version: '1.1.0', author: alice, at: '2024-01-05T00:00:00Z' },
    { id: id('solo-1.0.0-bob'), name: 'solo', version: '1.0.0', author: bob, at: '2024-02-01T00:00:00Z' },
    { id: id('dup-2.0.0-a'), name: 'dup', version: '2.0.0', author: alice, at: '2024-03-01T00:00:00Z' },
    { id: id('dup-2.0.0-b'), name: 'dup', version: '2.0.0', author: alice, at: '2024-03-02T00:00:00Z' },
    { id: id('dup-2.0.0-c'), name: 'dup', version: '2.0.0', author: alice, at: null },
  ];
  const expectedYanks: Record<string, RegExp> = {
    [id('hello-1.0.0-bob')]: new RegExp(`signed by ${bob}, who does not own hello; its owner is ${alice}`),
    [id('hello-1.0.1-bob')]: new RegExp(`signed by ${bob}, who does not own hello`),
    [id('hello-1.0.0-alice-again')]: new RegExp(`a second artifact for hello@1\\.0\\.0; .*${id('hello-1.0.0-alice')} was registered first`),
    [id('dup-2.0.0-b')]: new RegExp(`a second artifact for dup@2\\.0\\.0; .*${id('dup-2.0.0-a')} was registered first`),
    [id('dup-2.0.0-c')]: /a second artifact for dup@2\.0\.0/,
  };

  beforeAll(async () => {
    t = await createTestDatabase(kind, 'registry', { migrate: false });
    await runMigrations(t.db.knex, BEFORE, REGISTRY_MIGRATIONS_TABLE);
    for (const row of rows) await insertOld(t.db.knex, row);
    await t.db.knex.raw("INSERT INTO installations (package_id, target_node_id, status) VALUES (?, ?, 'completed')", [id('hello-1.0.0-bob'), bob]);
    await runMigrations(t.db.knex, registryMigrations, REGISTRY_MIGRATIONS_TABLE);
  });
  afterAll(() => t.drop());

  const packages = async () => {
    const { rows: found } = await t.db.knex.raw<{ rows: { package_id: string; yanked: boolean; yank_reason: string | null }[] }>(
      'SELECT package_id, yanked, yank_reason FROM packages ORDER BY package_id',
    );
    return found;
  };

  async function expectMigrated(): Promise<void> {
    const found = await packages();
    expect(found.map((r) => r.package_id).sort()).toEqual(rows.map((r) => r.id).sort());
    for (const row of found) {
      const expected = expectedYanks[row.package_id];
      if (expected) {
        expect({ id: row.package_id, yanked: row.yanked }).toEqual({ id: row.package_id, yanked: true });
        expect(row.yank_reason).toMatch(/^yanked by migration 005: /);
        expect(row.yank_reason).toMatch(expected);
      } else {
        expect({ id: row.package_id, yanked: row.yanked, reason: row.yank_reason }).toEqual({ id: row.package_id, yanked: false, reason: null });
      }
    }
    const { rows: owners } = await t.db.knex.raw<{ rows: { name: string; owner_did: string; added_by: string }[] }>(
      'SELECT name, owner_did, added_by FROM package_owners ORDER BY name',
    );
    expect(owners).toEqual([
      { name: 'dup', owner_did: alice, added_by: alice },
      { name: 'hello', owner_did: alice, added_by: alice },
      { name: 'solo', owner_did: bob, added_by: bob },
    ]);
    const { rows: audit } = await t.db.knex.raw<{ rows: { name: string; action: string; actor_did: string; owner_did: string | null; package_id: string | null; reason: string | null }[] }>(
      'SELECT name, action, actor_did, owner_did, package_id, reason FROM package_audit_log ORDER BY id',
    );
    expect(audit.filter((e) => e.action === 'OWNER_ADDED').map((e) => [e.name, e.actor_did, e.owner_did]).sort()).toEqual([
      ['dup', alice, alice],
      ['hello', alice, alice],
      ['solo', bob, bob],
    ]);
    const yanks = audit.filter((e) => e.action === 'VERSION_YANKED');
    expect(yanks.map((e) => e.package_id).sort()).toEqual(Object.keys(expectedYanks).sort());
    for (const e of yanks) {
      expect(e.actor_did).toBe('migration:005');
      expect(e.reason).toBe(found.find((r) => r.package_id === e.package_id)!.yank_reason);
    }
    const { rows: jobs } = await t.db.knex.raw<{ rows: { package_id: string }[] }>('SELECT package_id FROM installations');
    expect(jobs).toEqual([{ package_id: id('hello-1.0.0-bob') }]);
  }

  it('keeps every row, makes each first author the owner and yanks the offenders with reasons and audit entries', async () => {
    await expectMigrated();
  });

  it('holds a unique name@version among unyanked packages', async () => {
    const { rows: indexes } = await t.db.knex.raw<{ rows: { indexdef: string }[] }>("SELECT indexdef FROM pg_indexes WHERE indexname = 'idx_packages_name_version'");
    expect(indexes[0]?.indexdef).toMatch(/CREATE UNIQUE INDEX idx_packages_name_version ON public\.packages USING btree \(\(\(manifest ->> 'name'::text\)\), \(\(manifest ->> 'version'::text\)\)\) WHERE \(NOT yanked\)/);
    const trx = await t.db.knex.transaction();
    try {
      await expect(insertOld(trx, { id: id('solo-1.0.0-again'), name: 'solo', version: '1.0.0', author: bob, at: null })).rejects.toMatchObject({ code: '23505' });
    } finally {
      await trx.rollback();
    }
  });

  it('refuses to unyank a duplicate while the first registration holds its name@version', async () => {
    const domain = new Packages({ db: t.db.knex, artifacts: {} as ArtifactChecker, maxManifestBytes: 64 * 1024, cacheSize: 0, pageTokens: new PageTokens(randomBytes(32)) });
    await expect(domain.unyank(alice, id('hello-1.0.0-alice-again'))).rejects.toMatchObject({ reason: 'VERSION_EXISTS', metadata: { packageId: id('hello-1.0.0-alice') } });
    await expect(domain.unyank(bob, id('hello-1.0.1-bob'))).rejects.toMatchObject({ reason: 'NOT_A_PACKAGE_OWNER', metadata: { owners: alice } });
    expect((await packages()).filter((r) => r.yanked)).toHaveLength(Object.keys(expectedYanks).length);
  });

  it('logs what it yanked, one warning each', async () => {
    const warnings: unknown[] = [];
    const fakeLogger = { ...silentLogger(), warn: (obj: unknown) => warnings.push(obj) } as unknown as Logger;
    expect(await logMigrationYanks(t.db.knex, fakeLogger)).toBe(Object.keys(expectedYanks).length);
    expect(warnings).toHaveLength(Object.keys(expectedYanks).length);
    expect(warnings).toContainEqual(expect.objectContaining({ name: 'hello', packageId: id('hello-1.0.0-bob'), reason: expect.stringMatching(/does not own hello/) }));
  });

  it('rolls back without losing a row and migrates again to the same result', async () => {
    const { rows: applied } = await t.db.knex.raw<{ rows: { name: string }[] }>(`SELECT name FROM ${REGISTRY_MIGRATIONS_TABLE} ORDER BY id`);
    // Roll back until 005 is undone (a later migration may share its batch or follow it).
    while ((await t.db.knex.raw<{ rows: { name: string }[] }>(`SELECT name FROM ${REGISTRY_MIGRATIONS_TABLE} WHERE name = '005_package_owners'`)).rows.length > 0) {
      await runMigrations(t.db.knex, registryMigrations, REGISTRY_MIGRATIONS_TABLE, 'rollback');
    }
    const { rows: columns } = await t.db.knex.raw<{ rows: { column_name: string }[] }>(
      "SELECT column_name FROM information_schema.columns WHERE table_schema = 'public' AND table_name = 'packages' AND column_name IN ('yanked', 'yank_reason')",
    );
    expect(columns).toEqual([]);
    const { rows: tables } = await t.db.knex.raw<{ rows: { table_name: string }[] }>(
      "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_name IN ('package_names', 'package_owners', 'package_audit_log')",
    );
    expect(tables).toEqual([]);
    const { rows: left } = await t.db.knex.raw<{ rows: { package_id: string }[] }>('SELECT package_id FROM packages');
    expect(left.map((r) => r.package_id).sort()).toEqual(rows.map((r) => r.id).sort());

    await runMigrations(t.db.knex, registryMigrations, REGISTRY_MIGRATIONS_TABLE);
    const { rows: again } = await t.db.knex.raw<{ rows: { name: string }[] }>(`SELECT name FROM ${REGISTRY_MIGRATIONS_TABLE} ORDER BY id`);
    expect(again.map((r) => r.name)).toEqual(applied.map((r) => r.name));
    await expectMigrated();
  });
});
