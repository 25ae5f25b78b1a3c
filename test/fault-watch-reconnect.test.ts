/**
 * A watcher's connection dropped: the watcher follows a job through a TCP
 * proxy that cuts its connection several times while the agent reports; it
 * reconnects with `from_line` = the lines it has and ends with exactly the
 * reported lines, in order, without duplicates, and the final status.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { credentials } from '@grpc/grpc-js';
import { registry } from '@griot/proto';
import { createPostgresDatabase } from '@griot/test/support/database';
import { describeIf, postgresKind } from '@griot/test/support/tools';
import { connect, newIdentity, nodeAuth, publishTestPackage, unary } from '@griot/test/support/fixtures';
import { openReport, watchStrictly } from '@griot/test/support/job-streams';
import { startServiceProcess, type ServiceProcess } from '@griot/test/support/process';
import { startTcpProxy, type TcpProxy } from '@griot/test/support/tcp-proxy';

const S = registry.InstallationStatus;

describeIf([postgresKind()])("a watcher's connection dropped", () => {
  const databases: { drop(): Promise<void> }[] = [];
  let work: string;
  let contentProcess: ServiceProcess;
  let registryProcess: ServiceProcess;
  let proxy: TcpProxy;
  let clients: ReturnType<typeof connect>;
  let proxied: registry.RegistryServiceClient;

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'griot-fault-watch-'));
    const [registryDb, contentDb] = await Promise.all([createPostgresDatabase(), createPostgresDatabase()]);
    databases.push(registryDb, contentDb);
    contentProcess = await startServiceProcess('content-store', { CONTENT_DATABASE_URL: contentDb.url, GRIOT_DATA_DIR: join(work, 'content') });
    registryProcess = await startServiceProcess('registry', { REGISTRY_DATABASE_URL: registryDb.url, GRIOT_DATA_DIR: join(work, 'registry'), CONTENT_STORE_ADDR: contentProcess.address });
    proxy = await startTcpProxy(registryProcess.address);
    clients = connect({ content: contentProcess.address, registry: registryProcess.address });
    proxied = new registry.RegistryServiceClient(proxy.address, credentials.createInsecure());
  }, 60_000);

  afterAll(async () => {
    proxied?.close();
    clients?.close();
    await proxy?.close();
    await registryProcess?.stop();
    await contentProcess?.stop();
    await Promise.all(databases.map((d) => d.drop()));
    rmSync(work, { recursive: true, force: true });
  });

  it('resumes from its line count with no loss and no duplicates', async () => {
    const node = newIdentity();
    const pkg = await publishTestPackage(clients, newIdentity(), { name: 'watched', version: '1.0.0' });
    await unary<registry.CreateInstallationRequest, registry.CreateInstallationResponse>(clients.registry.createInstallation.bind(clients.registry), { packageId: pkg.packageId, targetNodeId: node.did }, nodeAuth(node));
    const claim = await unary<registry.ClaimInstallationRequest, registry.ClaimInstallationResponse>(clients.registry.claimInstallation.bind(clients.registry), { waitMillis: 0 }, nodeAuth(node));
    const jobId = claim.installation!.jobId;
    const lines = Array.from({ length: 300 }, (_, i) => `step ${i}: ${'x'.repeat(i % 40)}`);
    const report = openReport(clients.registry, node, jobId);
    const sendRange = (from: number, to: number) => {
      for (let i = from; i < to; i += 10) report.send(lines.slice(i, Math.min(i + 10, to)));
    };

    const watcher = watchStrictly(() => proxied, jobId, () => nodeAuth(node));
    sendRange(0, 100);
    await watcher.waitForLines(100);

    // Cut while the agent goes on reporting: the lines reported meanwhile come from the log.
    proxy.cutAll();
    sendRange(100, 200);
    await watcher.waitForLines(200);
    expect(watcher.reconnects).toBeGreaterThanOrEqual(1);
    expect(watcher.fromLines.slice(0, 2)).toEqual([0, 100]);

    // Cut again in the middle of a stream of batches.
    const streaming = (async () => {
      for (let i = 200; i < 300; i += 5) {
        report.send(lines.slice(i, i + 5));
        await new Promise((r) => setTimeout(r, 10));
      }
    })();
    await watcher.waitForLines(230);
    proxy.cutAll();
    await streaming;
    report.send([], S.INSTALLATION_STATUS_COMPLETED, 'all 300 steps done');
    // And once more around the final status.
    proxy.cutAll();
    const reported = await report.close();
    expect(reported.status).toBe(S.INSTALLATION_STATUS_COMPLETED);

    const outcome = await watcher.done;
    expect(outcome).toEqual({ status: S.INSTALLATION_STATUS_COMPLETED, statusMessage: 'all 300 steps done' });
    expect(watcher.lines).toEqual(lines);
    expect(watcher.reconnects).toBeGreaterThanOrEqual(2);
    expect(proxy.connectionCount).toBeGreaterThanOrEqual(3);
    // Every stream after the first started where the one before left off.
    expect(watcher.fromLines.every((n, i) => i === 0 || n >= watcher.fromLines[i - 1]!)).toBe(true);

    const job = await unary<registry.GetInstallationRequest, registry.GetInstallationResponse>(clients.registry.getInstallation.bind(clients.registry), { jobId }, nodeAuth(node));
    expect(job.installation!.logs).toEqual(lines);
  }, 60_000);
});
