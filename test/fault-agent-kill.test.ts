/**
 * An agent killed (SIGKILL) in the middle of an install: the real `griot
 * agent` process claims the job and starts downloading the artifact from a
 * content store that does not answer (a held proxy), and is killed there.
 * Its lease expires and the job goes back to pending; the next agent
 * completes it, or, once the last attempt's agent was killed too, the job
 * fails with a message naming the lease. The job never stays running.
 */
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { credentials } from '@grpc/grpc-js';
import { writeKeyFile } from '@griot/did';
import { content, registry } from '@griot/proto';
import { spawnGriot } from '@griot/test/support/process';
import { packDirectory } from '@griot/client';
import { createPostgresDatabase } from '@griot/test/support/database';
import { describeIf, postgresKind } from '@griot/test/support/tools';
import { newIdentity, nodeAuth, publishTestPackage, unary, type Identity } from '@griot/test/support/fixtures';
import { killTree } from '@griot/test/support/kill-tree';
import { startServiceProcess, type ServiceProcess } from '@griot/test/support/process';
import { startTcpProxy, type TcpProxy } from '@griot/test/support/tcp-proxy';

const S = registry.InstallationStatus;
const LEASE_MS = 2000;
const SWEEP_MS = 200;
/** Longest a job may stay running after its agent died: the lease, a sweep, and slack for a busy machine. */
const EXPIRY_BOUND_MS = LEASE_MS + SWEEP_MS + 5000;

describeIf([postgresKind()])('agent killed in the middle of an install', () => {
  const databases: { drop(): Promise<void> }[] = [];
  const agents: ChildProcess[] = [];
  const operator = newIdentity();
  let work: string;
  let contentProcess: ServiceProcess;
  let registryProcess: ServiceProcess;
  /** A way to the content store that accepts connections and never answers. */
  let stalledContent: TcpProxy;
  let client: registry.RegistryServiceClient;
  let contentClient: content.ContentServiceClient;
  const author = newIdentity();
  let packageId: string;

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'griot-fault-agent-'));
    const [registryDb, contentDb] = await Promise.all([createPostgresDatabase(), createPostgresDatabase()]);
    databases.push(registryDb, contentDb);
    contentProcess = await startServiceProcess('content-store', { CONTENT_DATABASE_URL: contentDb.url, GRIOT_DATA_DIR: join(work, 'content') });
    registryProcess = await startServiceProcess('registry', {
      REGISTRY_DATABASE_URL: registryDb.url,
      GRIOT_DATA_DIR: join(work, 'registry'),
      CONTENT_STORE_ADDR: contentProcess.address,
      REGISTRY_LEASE_DURATION: `${LEASE_MS}ms`,
      REGISTRY_LEASE_SWEEP_INTERVAL: `${SWEEP_MS}ms`,
      REGISTRY_MAX_ATTEMPTS: '2',
      // The test reads every job as an operator.
      REGISTRY_OPERATORS: operator.did,
    });
    stalledContent = await startTcpProxy(contentProcess.address);
    stalledContent.hold();
    client = new registry.RegistryServiceClient(registryProcess.address, credentials.createInsecure());
    contentClient = new content.ContentServiceClient(contentProcess.address, credentials.createInsecure());

    // A real package (a reproducible .tar.gz), so that an agent that is left alone installs it.
    const dir = join(work, 'src');
    mkdirSync(join(dir, 'bin'), { recursive: true });
    writeFileSync(join(dir, 'griot.json'), JSON.stringify({ name: 'slowpoke', version: '1.0.0', nodeClass: 'worker', dependencies: {} }));
    writeFileSync(join(dir, 'bin', 'slowpoke'), '#!/bin/sh\necho slow\n');
    const packed = await packDirectory(dir, join(work, 'slowpoke.tgz'));
    const pkg = await publishTestPackage({ content: contentClient, registry: client }, author, { name: 'slowpoke', version: '1.0.0', artifact: readFileSync(packed.file) });
    packageId = pkg.packageId;
  }, 60_000);

  afterAll(async () => {
    await Promise.all(agents.map((a) => killTree(a)));
    client?.close();
    contentClient?.close();
    await stalledContent?.close();
    await registryProcess?.stop();
    await contentProcess?.stop();
    await Promise.all(databases.map((d) => d.drop()));
    rmSync(work, { recursive: true, force: true });
  });

  const getJob = async (jobId: string): Promise<registry.Installation> =>
    (await unary<registry.GetInstallationRequest, registry.GetInstallationResponse>(client.getInstallation.bind(client), { jobId }, nodeAuth(operator))).installation!;

  /** Polls the job until `done` holds; fails after `timeoutMs` with the job as it was. */
  const waitForJob = async (jobId: string, what: string, done: (job: registry.Installation) => boolean, timeoutMs = 20_000): Promise<registry.Installation> => {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const job = await getJob(jobId);
      if (done(job)) return job;
      if (Date.now() > end) throw new Error(`job ${jobId} is not ${what} after ${timeoutMs} ms: ${JSON.stringify({ ...job, logs: job.logs.slice(-5) })}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };

  /** Starts a `griot agent` process for the node, fetching artifacts from `contentAddress`. */
  const startAgent = async (node: Identity, contentAddress: string): Promise<{ child: ChildProcess; root: string; output: string[] }> => {
    const keyFile = join(work, `${node.did.slice(-12)}.json`);
    if (!existsSync(keyFile)) await writeKeyFile(keyFile, node.keyPair);
    const root = mkdtempSync(join(work, 'root-'));
    const output: string[] = [];
    const child = spawnGriot(['agent', '--node', keyFile, '--root', root, '--wait-ms', '1000'], { GRIOT_REGISTRY: registryProcess.address, GRIOT_CONTENT: contentAddress }, (line) => output.push(line));
    agents.push(child);
    return { child, root, output };
  };

  const createJob = async (node: Identity): Promise<string> =>
    (await unary<registry.CreateInstallationRequest, registry.CreateInstallationResponse>(client.createInstallation.bind(client), { packageId, targetNodeId: node.did }, nodeAuth(node))).installation!.jobId;

  /** Runs an agent until it is downloading attempt `attempt` of the job, then kills it; resolves when the job is no longer running. */
  const killMidInstall = async (node: Identity, jobId: string, attempt: number): Promise<registry.Installation> => {
    const agent = await startAgent(node, stalledContent.address);
    const running = await waitForJob(jobId, `downloading (attempt ${attempt})`, (j) => j.status === S.INSTALLATION_STATUS_RUNNING && j.attempts === attempt && j.logs.filter((l) => l.includes('downloading')).length === attempt);
    expect(running.leaseExpireTime).toBeDefined();
    await killTree(agent.child);
    return waitForJob(jobId, 'back from running', (j) => j.status !== S.INSTALLATION_STATUS_RUNNING, EXPIRY_BOUND_MS);
  };

  it('gives the job back after the lease expires; the next agent completes it', async () => {
    const node = newIdentity();
    const jobId = await createJob(node);

    const pending = await killMidInstall(node, jobId, 1);
    expect(pending).toMatchObject({ status: S.INSTALLATION_STATUS_PENDING, attempts: 1, completedAt: undefined });
    expect(pending.statusMessage).toMatch(/lease expired \(attempt 1 of 2\)/);
    // The first attempt's lines are kept.
    expect(pending.logs.some((l) => /claimed by .* \(attempt 1\)/.test(l))).toBe(true);

    const agent = await startAgent(node, contentProcess.address);
    const done = await waitForJob(jobId, 'final', (j) => j.status !== S.INSTALLATION_STATUS_PENDING && j.status !== S.INSTALLATION_STATUS_RUNNING);
    expect(done).toMatchObject({ status: S.INSTALLATION_STATUS_COMPLETED, attempts: 2, statusMessage: 'installed slowpoke@1.0.0 and 0 dependencies' });
    expect(done.completedAt).toBeDefined();
    expect(done.logs.some((l) => /claimed by .* \(attempt 2\)/.test(l))).toBe(true);
    expect(readFileSync(join(agent.root, 'packages', 'slowpoke', '1.0.0', 'bin', 'slowpoke'), 'utf8')).toBe('#!/bin/sh\necho slow\n');
    await killTree(agent.child, 'SIGTERM');
  }, 60_000);

  it('fails the job with a message naming the lease once its last attempt was killed too', async () => {
    const node = newIdentity();
    const jobId = await createJob(node);

    const pending = await killMidInstall(node, jobId, 1);
    expect(pending).toMatchObject({ status: S.INSTALLATION_STATUS_PENDING, attempts: 1 });

    const failed = await killMidInstall(node, jobId, 2);
    expect(failed).toMatchObject({ status: S.INSTALLATION_STATUS_FAILED, attempts: 2 });
    expect(failed.statusMessage).toMatch(/lease expired after 2 attempts/);
    expect(failed.completedAt).toBeDefined();

    // Final means final: nobody can claim it again.
    const claim = await unary<registry.ClaimInstallationRequest, registry.ClaimInstallationResponse>(client.claimInstallation.bind(client), { waitMillis: 0 }, nodeAuth(node));
    expect(claim.installation).toBeUndefined();
    expect((await getJob(jobId)).status).toBe(S.INSTALLATION_STATUS_FAILED);
  }, 60_000);
});
