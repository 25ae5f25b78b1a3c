/**
 * Sweeps that one job cannot break, and logs with limits, on PostgreSQL and
 * PGlite: the lease sweep ends leases job by job, so a job whose checkpoint
 * fails (or whose every write fails) does not keep another abandoned job
 * running; a job's log stops at REGISTRY_MAX_LOG_LINES_PER_JOB /
 * REGISTRY_MAX_LOG_BYTES_PER_JOB with RESOURCE_EXHAUSTED naming the limit;
 * GetInstallation reads only the first lines, with the total count; and
 * migration 008 (`log_bytes`).
 */
import { randomBytes } from 'node:crypto';
import { Code, GriotError, runMigrations, type Logger } from '@griot/server-kit';
import { REGISTRY_MIGRATIONS_TABLE, registryMigrations } from '@griot/migrations';
import { createTestDatabase, DB_KINDS, type TestDatabase } from '@griot/test/support/database';
import { sweepExpiredLeases } from '../src/domain/lease-sweeper';
import { ReportSession } from '../src/domain/report-session';
import { InstallationsRepository } from '../src/repository/installations-repository';

const LEASE_MS = 60_000;

function recordingLogger(): { logger: Logger; records: { level: string; fields: Record<string, unknown>; message: string }[] } {
  const records: { level: string; fields: Record<string, unknown>; message: string }[] = [];
  const at = (level: string) => (fields: Record<string, unknown>, message: string) => void records.push({ level, fields, message });
  return { logger: { info: at('info'), warn: at('warn'), error: at('error'), debug: at('debug') } as unknown as Logger, records };
}

describe.each(DB_KINDS)('bounded sweeps and logs on %s', (kind) => {
  let t: TestDatabase;
  let repository: InstallationsRepository;
  let packageId: string;
  beforeAll(async () => {
    t = await createTestDatabase(kind, 'registry');
    repository = new InstallationsRepository(t.db.knex);
    packageId = randomBytes(32).toString('hex');
    await t.db.knex.raw(
      `INSERT INTO packages (package_id, manifest, artifact_url, author_did, signature) VALUES (?, ?::jsonb, 'https://example.org/a.tgz', 'did:key:z', 'sig')`,
      [packageId, JSON.stringify({ name: 'bounded', version: '1.0.0' })],
    );
  });
  afterAll(() => t.drop());

  async function runningJob(): Promise<{ jobId: string; attempt: number }> {
    const node = `did:key:node-${randomBytes(4).toString('hex')}`;
    const created = await repository.create({ packageId, targetNodeId: node, createdBy: node, installOrder: [packageId] });
    const claimed = await repository.claim(node, LEASE_MS);
    expect(claimed?.jobId).toBe(created.jobId);
    return { jobId: created.jobId, attempt: claimed!.attempts };
  }

  /** Makes a job's lease expired now (no waiting). */
  const abandon = (jobId: string) => t.db.knex.raw("UPDATE installations SET lease_expires_at = NOW() - INTERVAL '1 minute' WHERE job_id = ?::uuid", [jobId]);

  /** A trigger that fails the UPDATEs of one job: those that checkpoint its log, or all of them. */
  async function poison(jobId: string, only: 'checkpoint' | 'every-update'): Promise<() => Promise<void>> {
    const name = `poison_${randomBytes(4).toString('hex')}`;
    const when = only === 'checkpoint' ? 'NEW.logs_checkpointed IS DISTINCT FROM OLD.logs_checkpointed' : 'TRUE';
    await t.db.knex.raw(`
      CREATE FUNCTION ${name}() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF OLD.job_id = '${jobId}'::uuid AND ${when} THEN RAISE EXCEPTION 'array size exceeds the maximum allowed (injected)'; END IF;
        RETURN NEW;
      END $$`);
    await t.db.knex.raw(`CREATE TRIGGER ${name} BEFORE UPDATE ON installations FOR EACH ROW EXECUTE FUNCTION ${name}()`);
    return async () => {
      await t.db.knex.raw(`DROP TRIGGER ${name} ON installations`);
      await t.db.knex.raw(`DROP FUNCTION ${name}()`);
    };
  }

  it('expires every other abandoned job when one job cannot be checkpointed, and ends that one without the checkpoint', async () => {
    const poisoned = await runningJob();
    const other = await runningJob();
    await repository.appendReport({ ...poisoned, lines: ['a', 'b', 'c'], leaseMs: LEASE_MS });
    await repository.appendReport({ ...other, lines: ['x'], leaseMs: LEASE_MS });
    await abandon(poisoned.jobId);
    await abandon(other.jobId);
    const cure = await poison(poisoned.jobId, 'checkpoint');
    try {
      // Without the job-by-job sweep, one failing UPDATE of all expired jobs left both running.
      await expect(repository.expireLeases(1)).rejects.toThrow(/injected/);
      const { logger, records } = recordingLogger();
      const changed = await sweepExpiredLeases(repository, { maxAttempts: 1, logger });
      expect(changed.map((r) => r.jobId).sort()).toEqual([poisoned.jobId, other.jobId].sort());
      expect(records.some((r) => r.level === 'warn' && r.fields.jobId === poisoned.jobId)).toBe(true);
    } finally {
      await cure();
    }
    expect(await repository.findById(other.jobId)).toMatchObject({ status: 'failed', logs: ['x'] });
    // Ended without the checkpoint: `logs` was not rewritten, and every line is still read from the side table.
    const { rows } = await t.db.knex.raw<{ rows: { logs: string[]; logs_checkpointed: number }[] }>('SELECT logs, logs_checkpointed FROM installations WHERE job_id = ?::uuid', [poisoned.jobId]);
    expect(rows[0]).toEqual({ logs: [], logs_checkpointed: 0 });
    expect(await repository.findById(poisoned.jobId)).toMatchObject({ status: 'failed', logs: ['a', 'b', 'c'], logCount: 3 });
  });

  it('logs and skips a job that cannot be swept at all, and still expires the others', async () => {
    const stuck = await runningJob();
    const other = await runningJob();
    await abandon(stuck.jobId);
    await abandon(other.jobId);
    const cure = await poison(stuck.jobId, 'every-update');
    try {
      const { logger, records } = recordingLogger();
      const changed = await sweepExpiredLeases(repository, { maxAttempts: 3, logger });
      expect(changed.map((r) => r.jobId)).toEqual([other.jobId]);
      expect(records.some((r) => r.level === 'error' && r.fields.jobId === stuck.jobId && /skipping this job/.test(r.message))).toBe(true);
      expect(await repository.findById(stuck.jobId, false)).toMatchObject({ status: 'running' });
      expect(await repository.findById(other.jobId, false)).toMatchObject({ status: 'pending', attempts: 1 });
    } finally {
      await cure();
    }
    // Once the job can be written again, the next sweep ends it.
    const { logger } = recordingLogger();
    expect((await sweepExpiredLeases(repository, { maxAttempts: 3, logger })).map((r) => r.jobId)).toEqual([stuck.jobId]);
  });

  it('expires another abandoned job beside a job whose log is over the per-job limit', async () => {
    const big = await runningJob();
    const other = await runningJob();
    // A log written before the limit existed: far over a limit of 100 lines.
    await t.db.knex.raw(
      `INSERT INTO installation_log_lines (job_id, line_no, line) SELECT ?::uuid, g, repeat('x', 200) FROM generate_series(0, 4999) g`,
      [big.jobId],
    );
    await t.db.knex.raw('UPDATE installations SET log_count = 5000, log_bytes = 1000000 WHERE job_id = ?::uuid', [big.jobId]);
    await abandon(big.jobId);
    await abandon(other.jobId);
    const { logger } = recordingLogger();
    const changed = await sweepExpiredLeases(repository, { maxAttempts: 3, logger });
    expect(changed.map((r) => r.jobId).sort()).toEqual([big.jobId, other.jobId].sort());
    expect(await repository.findById(other.jobId, false)).toMatchObject({ status: 'pending' });
  });

  it('stops a log at the line limit with RESOURCE_EXHAUSTED naming it, and still takes a final status', async () => {
    const job = await runningJob();
    const session = new ReportSession(repository, job.jobId, job.attempt, {
      leaseMs: LEASE_MS,
      flushIntervalMs: 5,
      flushLines: 10,
      maxLineLength: 1000,
      checkpointIntervalMs: 60_000,
      maxLogLines: 25,
      maxLogBytes: 1_000_000,
    });
    try {
      await session.accept(Array.from({ length: 20 }, (_, i) => `l${i}`), undefined, '');
      await session.accept(Array.from({ length: 10 }, (_, i) => `m${i}`), undefined, '');
      // The write of the 10 lines failed; the end of the stream says why.
      const err = await session.close().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(GriotError);
      expect(err).toMatchObject({ code: Code.RESOURCE_EXHAUSTED, reason: 'LOG_LIMIT_EXCEEDED', metadata: { limit: 'REGISTRY_MAX_LOG_LINES_PER_JOB', max: '25' } });
    } finally {
      session.dispose();
    }
    expect(await repository.findById(job.jobId, false)).toMatchObject({ status: 'running', logCount: 20 });
    // A new stream can still report the final status.
    const done = await repository.appendReport({ ...job, lines: [], status: 'failed', statusMessage: 'log too long', leaseMs: LEASE_MS, maxLines: 25, maxBytes: 1_000_000 });
    expect(done).toMatchObject({ status: 'failed', logCount: 20 });
  });

  it('stops a log at the byte limit, counting UTF-8 bytes', async () => {
    const job = await runningJob();
    const line = 'é'.repeat(100); // 200 bytes
    expect(await repository.appendReport({ ...job, lines: [line, line], leaseMs: LEASE_MS, maxBytes: 500 })).toMatchObject({ logCount: 2, logBytes: 400 });
    expect(await repository.appendReport({ ...job, lines: [line], leaseMs: LEASE_MS, maxBytes: 500 })).toBeUndefined();
    expect(await repository.appendReport({ ...job, lines: ['é'.repeat(50)], leaseMs: LEASE_MS, maxBytes: 500 })).toMatchObject({ logCount: 3, logBytes: 500 });
  });

  it('reads the first lines of a long log and tells the total', async () => {
    const job = await runningJob();
    const lines = Array.from({ length: 50 }, (_, i) => `line ${i}`);
    await repository.appendReport({ ...job, lines, leaseMs: LEASE_MS });
    expect(await repository.findById(job.jobId, true, 10)).toMatchObject({ logs: lines.slice(0, 10), logCount: 50 });
    expect((await repository.findById(job.jobId))?.logs).toEqual(lines);
  });
});

describe.each(DB_KINDS)('migration 008 (installation log bytes) on %s', (kind) => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await createTestDatabase(kind, 'registry', { migrate: false });
  });
  afterAll(() => t.drop());

  it('counts the bytes of the lines already written, and rolls back', async () => {
    await runMigrations(t.db.knex, registryMigrations.filter((m) => m.name < '008'), REGISTRY_MIGRATIONS_TABLE);
    const packageId = randomBytes(32).toString('hex');
    await t.db.knex.raw(
      `INSERT INTO packages (package_id, manifest, artifact_url, author_did, signature) VALUES (?, ?::jsonb, 'https://example.org/a.tgz', 'did:key:z', 'sig')`,
      [packageId, JSON.stringify({ name: 'm', version: '1.0.0' })],
    );
    const { rows } = await t.db.knex.raw<{ rows: { job_id: string }[] }>(
      `INSERT INTO installations (package_id, target_node_id, created_by, status, logs, install_order, log_count) VALUES (?, 'did:key:n', 'did:key:n', 'running', '{}', ARRAY[?], 2) RETURNING job_id`,
      [packageId, packageId],
    );
    const jobId = rows[0]!.job_id;
    await t.db.knex.raw(`INSERT INTO installation_log_lines (job_id, line_no, line) VALUES (?::uuid, 0, 'abc'), (?::uuid, 1, 'é')`, [jobId, jobId]);
    await runMigrations(t.db.knex, registryMigrations, REGISTRY_MIGRATIONS_TABLE);
    const after = await t.db.knex.raw<{ rows: { log_bytes: string | number }[] }>('SELECT log_bytes FROM installations WHERE job_id = ?::uuid', [jobId]);
    expect(Number(after.rows[0]!.log_bytes)).toBe(5);
    const migration = registryMigrations.find((m) => m.name === '008_installation_log_bytes')!;
    await migration.down(t.db.knex);
    const columns = await t.db.knex.raw<{ rows: unknown[] }>("SELECT 1 FROM information_schema.columns WHERE table_name = 'installations' AND column_name = 'log_bytes'");
    expect(columns.rows).toHaveLength(0);
  });
});
