/**
 * ReportSession against a fake repository: lines are written at once after
 * a quiet interval and in batches within one,
 * the log is checkpointed into `installations.logs` at most once per
 * checkpoint interval while the job runs, and a final status always ends
 * the stream's writes (the repository checkpoints it).
 */
import type { InstallationRecord, InstallationsRepository } from '../repository/installations-repository';
import { ReportSession } from './report-session';

interface AppendCall {
  lines: string[];
  status?: string;
  checkpoint?: boolean;
  at: number;
}

/** A fake repository that records appends and answers a running job. */
function fakeInstallationsRepository(): { repository: InstallationsRepository; appends: AppendCall[] } {
  const appends: AppendCall[] = [];
  let count = 0;
  const row = (): InstallationRecord => ({
    jobId: 'job',
    packageId: 'p',
    targetNodeId: 'did:key:n',
    createdBy: 'did:key:n',
    status: 'running',
    statusMessage: null,
    logCount: count,
    logBytes: 0,
    installOrder: [],
    attempts: 1,
    leaseExpiresAt: null,
    createdAt: new Date(0),
    completedAt: null,
    createdAtMicros: '0',
  });
  const repository = {
    async appendReport(input: { lines: string[]; status?: string; checkpoint?: boolean }) {
      appends.push({ lines: input.lines, status: input.status, checkpoint: input.checkpoint, at: Date.now() });
      count += input.lines.length;
      return { ...row(), status: (input.status as InstallationRecord['status']) ?? 'running' };
    },
    async renewLease() {
      return true;
    },
    async findById() {
      return row();
    },
  } as unknown as InstallationsRepository;
  return { repository, appends };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('ReportSession', () => {
  it('checkpoints at most once per interval while running, and writes every line once, in order', async () => {
    const { repository, appends } = fakeInstallationsRepository();
    const session = new ReportSession(repository, 'job', 1, { leaseMs: 60_000, flushIntervalMs: 5, flushLines: 1000, maxLineLength: 100, checkpointIntervalMs: 60 });
    const sent: string[] = [];
    const started = Date.now();
    // A fixed number of batches, whatever the machine's load: the assertions
    // below are bounded by the time it actually took.
    for (let i = 0; i < 40; i++) {
      const batch = [`l${sent.length}`, `l${sent.length + 1}`];
      sent.push(...batch);
      await session.accept(batch, undefined, '');
      await sleep(8);
    }
    const elapsed = Date.now() - started;
    await session.accept(['end'], 'completed', 'ok');
    sent.push('end');
    const row = await session.close();
    expect(row.status).toBe('completed');

    expect(appends.flatMap((a) => a.lines)).toEqual(sent);
    const checkpoints = appends.filter((a) => a.checkpoint);
    // At least 320 ms with a 60 ms interval: some checkpoints, never two within the interval.
    expect(checkpoints.length).toBeGreaterThanOrEqual(2);
    expect(checkpoints.length).toBeLessThanOrEqual(Math.floor(elapsed / 55) + 1);
    for (let i = 1; i < checkpoints.length; i++) expect(checkpoints[i]!.at - checkpoints[i - 1]!.at).toBeGreaterThanOrEqual(55);
    expect(appends.filter((a) => !a.checkpoint).length).toBeGreaterThan(0);
    expect(appends[appends.length - 1]).toMatchObject({ status: 'completed', lines: ['end'] });
  });

  it('writes a line at once when no write began within the interval, and batches the lines that follow it', async () => {
    const { repository, appends } = fakeInstallationsRepository();
    // An interval no test run outlasts: whatever comes after the first write waits for the close.
    const session = new ReportSession(repository, 'job', 1, { leaseMs: 60_000, flushIntervalMs: 600_000, flushLines: 1000, maxLineLength: 100, checkpointIntervalMs: 600_000 });
    await session.accept(['first'], undefined, '');
    await session.accept(['second'], undefined, '');
    await session.accept(['third'], undefined, '');
    await session.close();
    expect(appends.map((a) => a.lines)).toEqual([['first'], ['second', 'third']]);
    session.dispose();
  });

  it('does not checkpoint a short report before its final status', async () => {
    const { repository, appends } = fakeInstallationsRepository();
    const session = new ReportSession(repository, 'job', 1, { leaseMs: 60_000, flushIntervalMs: 1, flushLines: 2, maxLineLength: 100, checkpointIntervalMs: 60_000 });
    await session.accept(['a', 'b', 'c'], undefined, '');
    await session.accept(['d'], 'failed', 'broken');
    await session.close();
    expect(appends.map((a) => ({ lines: a.lines, checkpoint: a.checkpoint, status: a.status }))).toEqual([
      { lines: ['a', 'b', 'c'], checkpoint: false, status: undefined },
      { lines: ['d'], checkpoint: false, status: 'failed' },
    ]);
  });
});
