/**
 * ListPackages' containment query at the repository, on PostgreSQL and
 * PGlite: whether a filter has fewer matches than CONTAINMENT_SORT_LIMIT
 * (its matches are sorted) or more (the newest-first index is walked), every
 * page follows the keyset (created_at DESC, package_id DESC), ties in
 * created_at included, and walking the pages gives every match exactly once.
 */
import { CONTAINMENT_SORT_LIMIT, PackagesRepository, type PackageCursor } from '../src/repository/packages-repository';
import { createTestDatabase, DB_KINDS, type TestDatabase } from '@griot/test/support/database';

describe.each(DB_KINDS)('containment listing on %s', (kind) => {
  let t: TestDatabase;
  let repository: PackagesRepository;
  const total = CONTAINMENT_SORT_LIMIT + 400;
  beforeAll(async () => {
    t = await createTestDatabase(kind, 'registry');
    repository = new PackagesRepository(t.db.knex);
    // Every package is "common"; one in 40 is "rare"; created_at repeats every 3 packages (ties).
    await t.db.knex.raw(
      `INSERT INTO packages (package_id, manifest, artifact_url, author_did, signature, created_at)
       SELECT md5('p' || i) || md5('q' || i),
              jsonb_build_object('name', 'pkg-' || i, 'labels', jsonb_build_object('kind', 'common', 'rare', i % 40 = 0)),
              'https://example.org/' || i, 'did:key:z', 'sig', TIMESTAMPTZ '2024-01-01' + (i / 3) * INTERVAL '1 second'
         FROM generate_series(1, ?::int) AS i`,
      [total],
    );
  });
  afterAll(() => t.drop());

  async function expected(contains: Record<string, unknown>): Promise<string[]> {
    const { rows } = await t.db.knex.raw<{ rows: { package_id: string }[] }>(
      'SELECT package_id FROM packages WHERE manifest @> ?::jsonb ORDER BY created_at DESC, package_id DESC',
      [JSON.stringify(contains)],
    );
    return rows.map((r) => r.package_id);
  }

  async function walk(contains: Record<string, unknown>, pageSize: number): Promise<string[]> {
    const seen: string[] = [];
    let after: PackageCursor | undefined;
    for (;;) {
      const { rows, more } = await repository.list({ contains }, pageSize, after);
      seen.push(...rows.map((r) => r.packageId));
      if (!more) return seen;
      const last = rows[rows.length - 1]!;
      after = { t: last.createdAtMicros, id: last.packageId };
    }
  }

  it.each([
    ['more matches than the sort limit', { labels: { kind: 'common' } }, total],
    ['fewer matches than the sort limit', { labels: { rare: true } }, Math.floor(total / 40)],
    ['no match', { labels: { kind: 'none' } }, 0],
  ])('pages exactly through %s', async (_name, contains, count) => {
    const all = await expected(contains);
    expect(all).toHaveLength(count);
    for (const pageSize of [7, 50, 500]) expect(await walk(contains, pageSize)).toEqual(all);
  });

  it('combines containment with the other filters', async () => {
    const { rows } = await repository.list({ contains: { labels: { kind: 'common' } }, name: 'pkg-80' }, 10);
    expect(rows.map((r) => r.manifest.name)).toEqual(['pkg-80']);
    const rare = await repository.list({ contains: { labels: { rare: true } }, authorDid: 'did:key:z' }, 3);
    expect(rare.rows.map((r) => r.packageId)).toEqual((await expected({ labels: { rare: true } })).slice(0, 3));
    expect(rare.more).toBe(true);
  });
});
