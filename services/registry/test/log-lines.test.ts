/**
 * Installation log lines on PostgreSQL and PGlite, at the repository: lines
 * go to `installation_log_lines`, readers read exact ranges from it across
 * checkpoint boundaries, and the seed's `installations.logs` is checkpointed
 * in batches while running and always holds every line, in order, once the
 * job is final (completed, failed, cancelled, or failed by an expired lease).
 * Also migration 004: existing `logs` are copied into the side table, and
 * rolling back puts every line not yet checkpointed back into `logs`.
 */
import { randomBytes } from 'node:crypto';
import { runMigrations } from '@griot/server-kit';
import { REGISTRY_MIGRATIONS_TABLE, registryMigrations } from '@griot/migrations';
import { createTestDatabase, DB_KINDS, type TestDatabase } from '@griot/test/support/database';
import { InstallationsRepository } from '../src/repository/installations-repository';

const LEASE_MS = 60_000;

async function seedPackage(t: TestDatabase): Promise<string> {
  const packageId = randomBytes(32).toString('hex');
  await t.db.knex.raw(
    `INSERT INTO packages (package_id, manifest, artifact_url, author_did, signature) VALUES (?, ?::jsonb, 'https://example.org/a.tgz', 'did:key:z', 'sig')`,
    [packageId, JSON.stringify({ name: `p-${packageId.slice(0, 8)}`, version: '1.0.0' })],
  );
  return packageId;
}

/** What the seed's column and its counter hold now. */
async function stored(t: TestDatabase, jobId: string): Promise<{ logs: string[]; logsCheckpointed: number; logCount: number; sideRows: number }> {
  const { rows } = await t.db.knex.raw<{ rows: { logs: string[] | null; logs_checkpointed: number; log_count: number; side_rows: string | number }[] }>(
    `SELECT logs, logs_checkpointed, log_count,
            (SELECT count(*) FROM installation_log_lines l WHERE l.job_id = installations.job_id) AS side_rows
       FROM installations WHERE job_id = ?::uuid`,
    [jobId],
  );
  const row = rows[0]!;
  return { logs: row.logs ?? [], logsCheckpointed: row.logs_checkpointed, logCount: row.log_count, sideRows: Number(row.side_rows) };
}

const numbered = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => `line ${from + i} ${'é'.repeat((from + i) % 3)} "quoted", {braces}\\`);

describe.each(DB_KINDS)('installation log lines on %s', (kind) => {
  let t: TestDatabase;
  let repository: InstallationsRepository;
  let packageId: string;
  beforeAll(async () => {
    t = await createTestDatabase(kind, 'registry');
    repository = new InstallationsRepository(t.db.knex);
    packageId = await seedPackage(t);
  });
  afterAll(() => t.drop());

  async function runningJob(node = `did:key:node-${randomBytes(4).toString('hex')}`): Promise<{ jobId: string; attempt: number }> {
    const created = await repository.create({ packageId, targetNodeId: node, createdBy: node, installOrder: [packageId] });
    const claimed = await repository.claim(node, LEASE_MS);
    expect(claimed?.jobId).toBe(created.jobId);
    return { jobId: created.jobId, attempt: claimed!.attempts };
  }

  it('appends to the side table only, checkpoints into logs when asked, and reads exact ranges across the checkpoint boundary', async () => {
    const { jobId, attempt } = await runningJob();
    const append = (from: number, to: number, checkpoint = false) => repository.appendReport({ jobId, attempt, lines: numbered(from, to), leaseMs: LEASE_MS, checkpoint });

    await append(0, 100);
    await append(100, 250);
    expect(await stored(t, jobId)).toEqual({ logs: [], logsCheckpointed: 0, logCount: 250, sideRows: 250 });

    // A checkpoint copies what was there and this batch's own lines.
    const row = await append(250, 300, true);
    expect(row?.logCount).toBe(300);
    expect(await stored(t, jobId)).toEqual({ logs: numbered(0, 300), logsCheckpointed: 300, logCount: 300, sideRows: 300 });

    await append(300, 420);
    expect(await stored(t, jobId)).toMatchObject({ logs: numbered(0, 300), logsCheckpointed: 300, logCount: 420, sideRows: 420 });

    // Ranges before, across and after the boundary, and past the end.
    for (const [from, to] of [[0, 1], [0, 300], [298, 303], [299, 300], [300, 301], [250, 420], [410, 500], [420, 430], [0, 420]] as const) {
      const slice = await repository.readLogSlice(jobId, from, to);
      expect({ from, to, lines: slice?.lines }).toEqual({ from, to, lines: numbered(from, Math.min(to, 420)) });
      expect(slice).toMatchObject({ status: 'running', logCount: 420 });
    }
    expect((await repository.findById(jobId))?.logs).toEqual(numbered(0, 420));

    // The final status checkpoints the rest, in the same statement as its own lines.
    const done = await repository.appendReport({ jobId, attempt, lines: numbered(420, 430), status: 'completed', statusMessage: 'ok', leaseMs: LEASE_MS });
    expect(done).toMatchObject({ status: 'completed', logCount: 430 });
    expect(await stored(t, jobId)).toEqual({ logs: numbered(0, 430), logsCheckpointed: 430, logCount: 430, sideRows: 430 });
    expect((await repository.findById(jobId))?.logs).toEqual(numbered(0, 430));
  });

  it('checkpoints on a failed status without lines, on cancel, and when a lease expires', async () => {
    const failed = await runningJob();
    await repository.appendReport({ ...failed, lines: numbered(0, 7), leaseMs: LEASE_MS });
    await repository.appendReport({ ...failed, lines: [], status: 'failed', statusMessage: 'broken', leaseMs: LEASE_MS });
    expect(await stored(t, failed.jobId)).toEqual({ logs: numbered(0, 7), logsCheckpointed: 7, logCount: 7, sideRows: 7 });

    const cancelled = await runningJob();
    await repository.appendReport({ ...cancelled, lines: numbered(0, 5), leaseMs: LEASE_MS, checkpoint: true });
    await repository.appendReport({ ...cancelled, lines: numbered(5, 9), leaseMs: LEASE_MS });
    expect((await repository.cancel(cancelled.jobId, 'stop'))?.status).toBe('cancelled');
    expect(await stored(t, cancelled.jobId)).toEqual({ logs: numbered(0, 9), logsCheckpointed: 9, logCount: 9, sideRows: 9 });
    // Nothing more is appended to a final job.
    expect(await repository.appendReport({ ...cancelled, lines: ['late'], leaseMs: LEASE_MS })).toBeUndefined();
    expect(await stored(t, cancelled.jobId)).toMatchObject({ logCount: 9, sideRows: 9 });

    const expired = await runningJob();
    await repository.appendReport({ ...expired, lines: numbered(0, 3), leaseMs: 1 });
    await new Promise((r) => setTimeout(r, 20));
    const swept = await repository.expireLeases(1);
    expect(swept.find((r) => r.jobId === expired.jobId)?.status).toBe('failed');
    expect(await stored(t, expired.jobId)).toEqual({ logs: numbered(0, 3), logsCheckpointed: 3, logCount: 3, sideRows: 3 });
  });

  it('keeps numbering and checkpoints right across claims of the same job', async () => {
    const node = `did:key:node-${randomBytes(4).toString('hex')}`;
    const first = await runningJob(node);
    await repository.appendReport({ ...first, lines: numbered(0, 4), leaseMs: 1 });
    await new Promise((r) => setTimeout(r, 20));
    await repository.expireLeases(3);
    expect(await stored(t, first.jobId)).toMatchObject({ logs: numbered(0, 4), logsCheckpointed: 4 });
    const again = await repository.claim(node, LEASE_MS);
    expect(again).toMatchObject({ jobId: first.jobId, attempts: 2 });
    // The first claim is fenced off; the second appends after the first's lines.
    expect(await repository.appendReport({ ...first, lines: ['stale'], leaseMs: LEASE_MS })).toBeUndefined();
    await repository.appendReport({ jobId: first.jobId, attempt: 2, lines: numbered(4, 6), status: 'completed', leaseMs: LEASE_MS });
    expect(await stored(t, first.jobId)).toEqual({ logs: numbered(0, 6), logsCheckpointed: 6, logCount: 6, sideRows: 6 });
  });
});

describe.each(DB_KINDS)('migration 004 (installation log lines) on %s', (kind) => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await createTestDatabase(kind, 'registry', { migrate: false });
  });
  afterAll(() => t.drop());

  it('copies existing logs into the side table, and rolls back with every line in logs', async () => {
    const before = registryMigrations.filter((m) => m.name < '004');
    await runMigrations(t.db.knex, before, REGISTRY_MIGRATIONS_TABLE);
    const packageId = await seedPackage(t);
    const { rows } = await t.db.knex.raw<{ rows: { job_id: string }[] }>(
      `INSERT INTO installations (package_id, target_node_id, status, logs, log_count) VALUES (?, 'did:key:n', 'completed', ?::text[], 3),
         (?, 'did:key:n', 'pending', NULL, 0) RETURNING job_id`,
      [packageId, ['a', 'b', 'c'], packageId],
    );
    const [done, pending] = rows.map((r) => r.job_id) as [string, string];

    expect(await runMigrations(t.db.knex, registryMigrations, REGISTRY_MIGRATIONS_TABLE)).toContain('004_installation_log_lines');
    // Checkpoints rewrite `logs`: lz4 where the server has it (PostgreSQL here), the default elsewhere (PGlite).
    const compression = async () => {
      const { rows: c } = await t.db.knex.raw<{ rows: { c: string }[] }>(
        "SELECT attcompression::text AS c FROM pg_attribute WHERE attrelid = 'installations'::regclass AND attname = 'logs'",
      );
      return c[0]!.c;
    };
    const { rows: methods } = await t.db.knex.raw<{ rows: { lz4: boolean }[] }>(
      "SELECT 'lz4' = ANY (enumvals) AS lz4 FROM pg_settings WHERE name = 'default_toast_compression'",
    );
    expect(await compression()).toBe(methods[0]!.lz4 ? 'l' : '');
    expect(await stored(t, done)).toEqual({ logs: ['a', 'b', 'c'], logsCheckpointed: 3, logCount: 3, sideRows: 3 });
    expect(await stored(t, pending)).toEqual({ logs: [], logsCheckpointed: 0, logCount: 0, sideRows: 0 });
    const repository = new InstallationsRepository(t.db.knex);
    expect((await repository.readLogSlice(done, 1, 3))?.lines).toEqual(['b', 'c']);

    // A running job with lines not yet checkpointed keeps them through a rollback.
    const claimed = await repository.claim('did:key:n', LEASE_MS);
    await repository.appendReport({ jobId: pending, attempt: claimed!.attempts, lines: ['x', 'y'], leaseMs: LEASE_MS, checkpoint: true });
    await repository.appendReport({ jobId: pending, attempt: claimed!.attempts, lines: ['z'], leaseMs: LEASE_MS });
    // The last batch is 004 and every later migration.
    expect((await runMigrations(t.db.knex, registryMigrations, REGISTRY_MIGRATIONS_TABLE, 'rollback')).sort()).toEqual(
      registryMigrations.filter((m) => m.name >= '004').map((m) => m.name),
    );
    expect(await compression()).toBe('');
    const { rows: after } = await t.db.knex.raw<{ rows: { job_id: string; logs: string[] }[] }>('SELECT job_id, logs FROM installations ORDER BY created_at, job_id');
    expect(Object.fromEntries(after.map((r) => [r.job_id, r.logs]))).toEqual({ [done]: ['a', 'b', 'c'], [pending]: ['x', 'y', 'z'] });
  });
});
