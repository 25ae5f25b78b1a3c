/**
 * The services as they leave the repository: `pnpm build` (its `tsc -b` part), then
 * `pnpm --filter @griot/SERVICE deploy --prod DIR` for both services (what
 * the Dockerfile runs), each folder's `node dist/migrate.js` and
 * `node dist/main.js` run as real processes, with production dependencies
 * only: both answer SERVING, a package is registered through them, and no
 * development tool is in the folders.
 */
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { credentials } from '@grpc/grpc-js';
import { health, registry } from '@griot/proto';
import { connect, newIdentity, publishTestPackage, unary } from '@griot/test/support/fixtures';
import { buildWorkspace, deployService, runDeployed, startDeployedService } from '@griot/test/support/deployed';
import type { ServiceProcess } from '@griot/test/support/process';

const DEV_TOOLS = ['tsx', 'typescript', 'jest', 'ts-jest', '@types/jest', 'esbuild', '@griot/test'];

function check(address: string): Promise<health.HealthCheckResponse_ServingStatus> {
  const client = new health.HealthClient(address, credentials.createInsecure());
  return new Promise((resolve, reject) =>
    client.check({ service: '' }, (err, res) => {
      client.close();
      if (err) reject(err);
      else resolve(res.status);
    }),
  );
}

/** The packages installed in a deployed folder's virtual store (`name@version` folders). */
function installedPackages(dir: string): string[] {
  return readdirSync(join(dir, 'node_modules', '.pnpm')).filter((entry) => entry !== 'node_modules' && !entry.startsWith('.') && !entry.endsWith('.yaml'));
}

describe('the services deployed with pnpm deploy --prod', () => {
  const folders: Record<'registry' | 'content-store', string> = { registry: '', 'content-store': '' };
  let work: string;
  let content: ServiceProcess | undefined;
  let registryProcess: ServiceProcess | undefined;

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'griot-deployed-'));
    await buildWorkspace();
    folders['content-store'] = await deployService('content-store');
    folders.registry = await deployService('registry');
  }, 300_000);

  afterAll(async () => {
    await registryProcess?.stop();
    await content?.stop();
    for (const dir of [work, ...Object.values(folders)]) if (dir) rmSync(dir.endsWith('registry') || dir.endsWith('content-store') ? dirname(dir) : dir, { recursive: true, force: true });
  });

  it('ships built JavaScript, the migrations and production dependencies only', () => {
    for (const dir of Object.values(folders)) {
      expect(existsSync(join(dir, 'dist', 'main.js'))).toBe(true);
      expect(existsSync(join(dir, 'dist', 'migrate.js'))).toBe(true);
      expect(existsSync(join(dir, 'src'))).toBe(false);
      expect(existsSync(join(dir, 'node_modules', '@griot', 'migrations', 'dist', 'index.js'))).toBe(true);
      expect(existsSync(join(dir, 'node_modules', '@griot', 'migrations', 'index.ts'))).toBe(false);
      // The descriptor set that reflection serves travels with @griot/proto.
      expect(existsSync(join(dir, 'node_modules', '@griot', 'proto', 'src', 'descriptor-set.binpb'))).toBe(true);
      const installed = installedPackages(dir);
      for (const tool of DEV_TOOLS) {
        expect(installed.filter((entry) => entry.startsWith(`${tool.replace('/', '+')}@`))).toEqual([]);
        expect(existsSync(join(dir, 'node_modules', tool))).toBe(false);
      }
    }
  });

  it('migrates with node dist/migrate.js, starts with node dist/main.js, serves and registers a package', async () => {
    const contentEnv = { GRIOT_EMBEDDED_DATABASE: 'pglite', GRIOT_DATA_DIR: join(work, 'content') };
    const registryEnv = { GRIOT_EMBEDDED_DATABASE: 'pglite', GRIOT_DATA_DIR: join(work, 'registry') };

    // Each folder migrates its service's database once, as the cluster's migration Job does.
    const migrated = await runDeployed(folders['content-store'], 'migrate.js', contentEnv);
    expect(migrated).toMatchObject({ code: 0 });
    expect(migrated.stdout).toContain('001_labox_schema');
    const again = await runDeployed(folders['content-store'], 'migrate.js', contentEnv);
    expect(again).toMatchObject({ code: 0 });
    expect(again.stdout).toContain('nothing to do');
    expect(await runDeployed(folders.registry, 'migrate.js', registryEnv)).toMatchObject({ code: 0 });

    content = await startDeployedService(folders['content-store'], 'content-store', contentEnv);
    registryProcess = await startDeployedService(folders.registry, 'registry', { ...registryEnv, CONTENT_STORE_ADDR: content.address });
    expect(await check(content.address)).toBe(health.HealthCheckResponse_ServingStatus.SERVING);
    expect(await check(registryProcess.address)).toBe(health.HealthCheckResponse_ServingStatus.SERVING);

    const clients = connect({ content: content.address, registry: registryProcess.address });
    try {
      const author = newIdentity();
      const published = await publishTestPackage(clients, author, { name: 'deployed-hello', version: '1.0.0' });
      const got = await unary<registry.GetPackageRequest, registry.GetPackageResponse>(clients.registry.getPackage.bind(clients.registry), { packageId: published.packageId });
      expect(got.package?.packageId).toBe(published.packageId);
      expect(got.package?.authorDid).toBe(author.did);
      expect(got.package?.manifest?.name).toBe('deployed-hello');
    } finally {
      clients.close();
    }

    // A SIGTERM drains and exits 0.
    expect(await registryProcess.stop()).toMatchObject({ code: 0 });
    expect(await content.stop()).toMatchObject({ code: 0 });
  }, 120_000);
});
