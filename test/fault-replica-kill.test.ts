/**
 * A registry replica killed (SIGKILL) while watchers follow a job: two
 * registry processes share one PostgreSQL database; the agent reports on
 * replica A, some watchers follow through replica B and others through A.
 * A is killed in the middle of the report stream. The agent reopens its
 * report stream on B (same job, same claim: the lease has not run out) from
 * the log count B reports, and finishes. The watchers on B keep receiving
 * without reconnecting; the watchers on A reconnect to B from their line
 * count. All of them end with exactly the reported lines, in order, and the
 * final status.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { credentials } from '@grpc/grpc-js';
import { registry } from '@griot/proto';
import pg from 'pg';
import { createPostgresDatabase } from '@griot/test/support/database';
import { describeIf, postgresKind } from '@griot/test/support/tools';
import { connect, newIdentity, nodeAuth, publishTestPackage, unary } from '@griot/test/support/fixtures';
import { openReport, watchStrictly } from '@griot/test/support/job-streams';
import { killTree } from '@griot/test/support/kill-tree';
import { startServiceProcess, type ServiceProcess } from '@griot/test/support/process';

const S = registry.InstallationStatus;
const LINES = 400;
const BATCH = 5;

describeIf([postgresKind()])('a registry replica killed while watchers follow a job', () => {
  const databases: { drop(): Promise<void> }[] = [];
  let work: string;
  let registryUrl: string;
  let contentProcess: ServiceProcess;
  let replicaA: ServiceProcess | undefined;
  let replicaB: ServiceProcess;
  let clients: ReturnType<typeof connect>;
  let clientA: registry.RegistryServiceClient;
  let sql: pg.Client;

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'griot-fault-replica-'));
    const [registryDb, contentDb] = await Promise.all([createPostgresDatabase(), createPostgresDatabase()]);
    databases.push(registryDb, contentDb);
    registryUrl = registryDb.url;
    contentProcess = await startServiceProcess('content-store', { CONTENT_DATABASE_URL: contentDb.url, GRIOT_DATA_DIR: join(work, 'content') });
    const registryEnv = (name: string) => ({
      REGISTRY_DATABASE_URL: registryUrl,
      GRIOT_DATA_DIR: join(work, name),
      CONTENT_STORE_ADDR: contentProcess.address,
      // Long enough that the job stays claimed while the agent moves to the other replica.
      REGISTRY_LEASE_DURATION: '20s',
    });
    // One after the other: the first one migrates the shared database.
    replicaB = await startServiceProcess('registry', registryEnv('b'));
    replicaA = await startServiceProcess('registry', registryEnv('a'));
    clients = connect({ content: contentProcess.address, registry: replicaB.address });
    clientA = new registry.RegistryServiceClient(replicaA.address, credentials.createInsecure());
    sql = new pg.Client({ connectionString: registryUrl });
    await sql.connect();
  }, 60_000);

  afterAll(async () => {
    clientA?.close();
    clients?.close();
    await sql?.end();
    if (replicaA) await killTree(replicaA.child);
    await replicaB?.stop();
    await contentProcess?.stop();
    await Promise.all(databases.map((d) => d.drop()));
    rmSync(work, { recursive: true, force: true });
  });

  /**
   * Waits until no other session of the database is running a statement or
   * sitting in a transaction: a statement the killed replica sent just before
   * it died has then committed or rolled back, so the log count is final.
   */
  const waitForQuietDatabase = async (): Promise<void> => {
    const end = Date.now() + 10_000;
    let quietChecks = 0;
    while (quietChecks < 2) {
      const { rows } = await sql.query<{ busy: string }>(
        "SELECT count(*) AS busy FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND state IS NOT NULL AND state <> 'idle'",
      );
      quietChecks = Number(rows[0]!.busy) === 0 ? quietChecks + 1 : 0;
      if (Date.now() > end) throw new Error('the database did not become quiet');
      await new Promise((r) => setTimeout(r, 50));
    }
  };

  it('keeps the watchers on the other replica receiving, and moves the others there', async () => {
    const node = newIdentity();
    const pkg = await publishTestPackage(clients, newIdentity(), { name: 'replicated', version: '1.0.0' });
    await unary<registry.CreateInstallationRequest, registry.CreateInstallationResponse>(clients.registry.createInstallation.bind(clients.registry), { packageId: pkg.packageId, targetNodeId: node.did }, nodeAuth(node));
    const claim = await unary<registry.ClaimInstallationRequest, registry.ClaimInstallationResponse>(clientA.claimInstallation.bind(clientA), { waitMillis: 0 }, nodeAuth(node));
    const jobId = claim.installation!.jobId;
    const lines = Array.from({ length: LINES }, (_, i) => `line ${i}`);

    let watchersOnA = clientA;
    const onB = Array.from({ length: 3 }, () => watchStrictly(() => clients.registry, jobId, () => nodeAuth(node)));
    const onA = Array.from({ length: 2 }, () => watchStrictly(() => watchersOnA, jobId, () => nodeAuth(node)));

    // The agent reports on A, batch after batch, until its stream breaks (at
    // most three quarters of the lines, so that some are left for B however
    // slowly the watchers go).
    const firstReport = openReport(clientA, node, jobId);
    let broken = false;
    void firstReport.ended.then(() => (broken = true));
    const reporting = (async () => {
      for (let i = 0; i < (LINES * 3) / 4 && !broken; i += BATCH) {
        firstReport.send(lines.slice(i, i + BATCH));
        await new Promise((r) => setTimeout(r, 10));
      }
    })();

    await Promise.all([...onB, ...onA].map((w) => w.waitForLines(100)));
    await killTree(replicaA!.child);
    replicaA = undefined;
    watchersOnA = clients.registry;
    const ended = await firstReport.ended;
    expect(ended.error).toBeDefined();
    await reporting;

    // The agent moves to B: same job, still its claim; it goes on from what the registry has.
    await waitForQuietDatabase();
    const { installation: job } = await unary<registry.GetInstallationRequest, registry.GetInstallationResponse>(clients.registry.getInstallation.bind(clients.registry), { jobId }, nodeAuth(node));
    expect(job).toMatchObject({ status: S.INSTALLATION_STATUS_RUNNING, attempts: 1 });
    const resumeAt = job!.logCount;
    expect(resumeAt).toBeGreaterThanOrEqual(100);
    expect(resumeAt).toBeLessThan(LINES);
    expect(job!.logs).toEqual(lines.slice(0, resumeAt));

    const secondReport = openReport(clients.registry, node, jobId);
    for (let i = resumeAt; i < LINES; i += BATCH) secondReport.send(lines.slice(i, Math.min(i + BATCH, LINES)));
    secondReport.send([], S.INSTALLATION_STATUS_COMPLETED, 'done on replica B');
    const final = await secondReport.close();
    expect(final).toMatchObject({ status: S.INSTALLATION_STATUS_COMPLETED, attempts: 1 });

    const expected = { status: S.INSTALLATION_STATUS_COMPLETED, statusMessage: 'done on replica B' };
    for (const w of [...onB, ...onA]) {
      expect(await w.done).toEqual(expected);
      expect(w.lines).toEqual(lines);
    }
    // The watchers on B never lost their stream; those on A resumed on B from their line count.
    expect(onB.map((w) => w.reconnects)).toEqual([0, 0, 0]);
    for (const w of onA) {
      expect(w.reconnects).toBeGreaterThanOrEqual(1);
      expect(w.fromLines[0]).toBe(0);
      expect(w.fromLines[w.fromLines.length - 1]).toBeGreaterThanOrEqual(100);
    }

    const { installation: stored } = await unary<registry.GetInstallationRequest, registry.GetInstallationResponse>(clients.registry.getInstallation.bind(clients.registry), { jobId }, nodeAuth(node));
    expect(stored!.logs).toEqual(lines);
    expect(stored!.completedAt).toBeDefined();
  }, 60_000);
});
