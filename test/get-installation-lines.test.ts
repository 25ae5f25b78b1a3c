/**
 * REGISTRY_MAX_LOG_LINES_PER_GET through the real service, on PostgreSQL and
 * PGlite: GetInstallation of a long log answers its first lines and the total
 * `log_count`, and WatchInstallation from that line gives exactly the rest.
 */
import { registry } from '@griot/proto';
import { DB_KINDS } from '@griot/test/support/database';
import { callerAuth, connect, newIdentity, nodeAuth, publishTestPackage, runFakeAgent, unary } from '@griot/test/support/fixtures';
import { startTestContentStore, startTestRegistry, type StartedService } from '@griot/test/support/services';

const PER_GET = 25;

describe.each(DB_KINDS)('GetInstallation of a long log on %s', (kind) => {
  let contentStore: StartedService;
  let registryService: StartedService;
  let clients: ReturnType<typeof connect>;
  beforeAll(async () => {
    contentStore = await startTestContentStore(kind);
    registryService = await startTestRegistry(kind, contentStore.address, { REGISTRY_MAX_LOG_LINES_PER_GET: String(PER_GET) });
    clients = connect({ content: contentStore.address, registry: registryService.address });
  });
  afterAll(async () => {
    clients?.close();
    await registryService?.stop();
    await contentStore?.stop();
  });

  it('answers the first REGISTRY_MAX_LOG_LINES_PER_GET lines and the total, and Watch from there gives the rest', async () => {
    const author = newIdentity();
    const node = newIdentity();
    const pkg = await publishTestPackage(clients, author, { name: 'long-log', version: '1.0.0' });
    const created = await unary<registry.CreateInstallationRequest, registry.CreateInstallationResponse>(
      clients.registry.createInstallation.bind(clients.registry),
      { packageId: pkg.packageId, targetNodeId: node.did },
      nodeAuth(node),
    );
    const jobId = created.installation!.jobId;
    const lines = Array.from({ length: 120 }, (_, i) => `step ${i}`);
    await runFakeAgent(clients.registry, node, lines, undefined, { batch: 40 });

    const got = await unary<registry.GetInstallationRequest, registry.GetInstallationResponse>(clients.registry.getInstallation.bind(clients.registry), { jobId }, callerAuth(node));
    expect(got.installation).toMatchObject({ status: registry.InstallationStatus.INSTALLATION_STATUS_COMPLETED, logCount: lines.length });
    expect(got.installation!.logs).toEqual(lines.slice(0, PER_GET));

    const rest: string[] = [];
    let firstLine = -1;
    await new Promise<void>((resolve, reject) => {
      const call = clients.registry.watchInstallation({ jobId, fromLine: PER_GET }, callerAuth(node));
      call.on('data', (m: registry.WatchInstallationResponse) => {
        if (firstLine < 0 && m.lines.length > 0) firstLine = m.firstLine;
        rest.push(...m.lines);
      });
      call.on('error', reject);
      call.on('end', resolve);
    });
    expect(firstLine).toBe(PER_GET);
    expect(rest).toEqual(lines.slice(PER_GET));
  });
});
