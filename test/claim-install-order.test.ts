/**
 * Install orders that always fit, as real processes: a registry whose claim
 * budget (REGISTRY_MAX_CLAIM_PACKAGE_BYTES) is smaller than a job's packages
 * answers ClaimInstallation with the job's package ids only, and the agent
 * reads each package with GetPackage and installs the job; on PostgreSQL
 * and PGlite.
 */
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateKeyPair, writeKeyFile } from '@griot/did';
import { createPostgresDatabase, DB_KINDS } from '@griot/test/support/database';
import { runGriot, startServiceProcess, type CliRun, type ServiceProcess } from '@griot/test/support/process';

jest.setTimeout(240_000);

function succeeded(run: CliRun): CliRun {
  if (run.code !== 0) throw new Error(`griot exited with ${run.code}: ${run.stderr}`);
  return run;
}

function writePackage(dir: string, descriptor: { name: string; version: string; dependencies?: Record<string, string> }): string {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'griot.json'), `${JSON.stringify({ nodeClass: 'edge', dependencies: {}, ...descriptor }, null, 2)}\n`);
  writeFileSync(join(dir, 'README.md'), `# ${descriptor.name}\n`);
  return dir;
}

describe.each(DB_KINDS)('an install order over the claim budget on %s', (kind) => {
  let work: string;
  let content: ServiceProcess | undefined;
  let registry: ServiceProcess | undefined;
  let database: { url: string; drop(): Promise<void> } | undefined;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'griot-claim-order-'));
    database = kind === 'postgres' ? await createPostgresDatabase() : undefined;
    content = await startServiceProcess('content-store', { CONTENT_LISTEN: '127.0.0.1:0', GRIOT_DATA_DIR: join(work, 'content-data') });
    registry = await startServiceProcess('registry', {
      REGISTRY_LISTEN: '127.0.0.1:0',
      GRIOT_DATA_DIR: join(work, 'registry-data'),
      REGISTRY_DATABASE_URL: database?.url ?? '',
      GRIOT_EMBEDDED_DATABASE: 'pglite',
      CONTENT_STORE_ADDR: content.address,
      // Smaller than any package: every claim names ids only.
      REGISTRY_MAX_CLAIM_PACKAGE_BYTES: '1',
    });
    env = { GRIOT_REGISTRY: registry.address, GRIOT_CONTENT: content.address };
  });

  afterAll(async () => {
    await registry?.stop();
    await content?.stop();
    await database?.drop();
    rmSync(work, { recursive: true, force: true });
  });

  it('answers the package ids only, and the agent fetches the packages and installs the job', async () => {
    const author = join(work, 'author.json');
    const node = join(work, 'node.json');
    await writeKeyFile(author, generateKeyPair());
    await writeKeyFile(node, generateKeyPair());
    const src = join(work, 'src');
    succeeded(await runGriot(['publish', writePackage(join(src, 'libbig'), { name: 'libbig', version: '1.0.0' }), '--key', author], env));
    succeeded(await runGriot(['publish', writePackage(join(src, 'appbig'), { name: 'appbig', version: '1.0.0', dependencies: { libbig: '^1.0.0' } }), '--key', author], env));
    const created = succeeded(await runGriot(['install', 'appbig@1.0.0', '--node', node], env));
    const jobId = /[0-9a-f]{8}-[0-9a-f-]{27}/.exec(created.stdout + created.stderr)?.[0];
    expect(jobId).toBeDefined();

    const root = join(work, 'root');
    const agent = await runGriot(['agent', '--node', node, '--root', root, '--once', '--wait-ms', '5000'], env);
    expect({ code: agent.code, stderr: agent.stderr }).toEqual({ code: 0, stderr: expect.any(String) });
    expect(agent.stdout + agent.stderr).toMatch(/the claim names 2 package id\(s\) only .*reading each with GetPackage/);
    expect(agent.stdout + agent.stderr).toMatch(/2 package\(s\) to install: libbig@1\.0\.0, appbig@1\.0\.0/);
    const logs = JSON.parse(succeeded(await runGriot(['logs', jobId!, '--node', node, '--json'], env)).stdout) as { status: string };
    expect(logs.status).toMatch(/completed/i);
    expect(readdirSync(join(root, 'packages')).sort()).toEqual(['appbig', 'libbig']);
  });
});
