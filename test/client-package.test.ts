/**
 * @griot/client as a TypeScript service gets it: `pnpm --filter @griot/client
 * pack` makes one tarball, `npm install` puts it in an empty npm project
 * (fetching only its npm dependencies: no @griot/* package is needed), and
 * the example under examples/publish-and-install runs there, as an ES
 * module, against services started by the test; `require('@griot/client')`
 * works there too, and the bundled types import no @griot/* package.
 */
import { execFile, execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DB_KINDS } from '@griot/test/support/database';
import { REPO_ROOT } from '@griot/test/support/process';
import { startTestContentStore, startTestRegistry, type StartedService } from '@griot/test/support/services';

jest.setTimeout(300_000);

function node(args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, args, { cwd, env: { PATH: process.env.PATH, HOME: cwd, ...env } }, (err, stdout, stderr) => {
      resolve({ code: err ? Number((err as { code?: unknown }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

describe('the packed client, installed with npm into an empty project', () => {
  let work: string;
  let project: string;
  let contentStore: StartedService | undefined;
  let registryService: StartedService | undefined;
  const version = (JSON.parse(readFileSync(join(REPO_ROOT, 'packages/client/package.json'), 'utf8')) as { version: string }).version;

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'griot-client-package-'));
    const packDir = join(work, 'pack');
    project = join(work, 'project');
    mkdirSync(packDir);
    mkdirSync(project);
    // prepack bundles dist/ (index.cjs, index.mjs, index.d.ts).
    execFileSync('pnpm', ['--filter', '@griot/client', 'pack', '--pack-destination', packDir], { cwd: REPO_ROOT, stdio: 'pipe' });
    const tarballs = readdirSync(packDir).filter((f) => f.endsWith('.tgz'));
    expect(tarballs).toEqual([`griot-client-${version}.tgz`]);
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'uses-griot-client', version: '1.0.0', private: true }));
    execFileSync('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', join(packDir, tarballs[0]!)], { cwd: project, stdio: 'pipe' });
    copyFileSync(join(REPO_ROOT, 'examples/publish-and-install/index.mjs'), join(project, 'index.mjs'));

    const kind = DB_KINDS[0]!;
    contentStore = await startTestContentStore(kind);
    registryService = await startTestRegistry(kind, contentStore.address);
  });

  afterAll(async () => {
    await registryService?.stop();
    await contentStore?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('installs without any @griot/* package but itself, with its bundled types', () => {
    const installed = join(project, 'node_modules', '@griot');
    expect(readdirSync(installed)).toEqual(['client']);
    expect(readdirSync(join(installed, 'client')).sort()).toEqual(['dist', 'package.json']);
    expect(readdirSync(join(installed, 'client', 'dist')).sort()).toEqual(['index.cjs', 'index.d.ts', 'index.mjs']);
    const types = readFileSync(join(installed, 'client', 'dist', 'index.d.ts'), 'utf8');
    expect(types).not.toMatch(/from ['"]@griot\//);
    expect(types).toMatch(/export declare class GriotClient\b/);
    expect(existsSync(join(project, 'node_modules', '@grpc', 'grpc-js'))).toBe(true);
  });

  it('runs the example: publishes, lists, downloads verified and by range, and follows a job to its end', async () => {
    const run = await node(['index.mjs'], project, { GRIOT_REGISTRY: registryService!.address, GRIOT_CONTENT: contentStore!.address });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const lines = run.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^published hello@1\.0\.0 [0-9a-f]{64} \(\d+ bytes\)$/);
    const size = /\((\d+) bytes\)/.exec(lines[0]!)![1];
    expect(lines.slice(1)).toEqual([
      'listed hello@1.0.0',
      `downloaded ${size} bytes, verified`,
      'first bytes 1f8b', // a gzip file
      'getPackage of an unknown id: NOT_FOUND',
      'job cancelled',
    ]);
  });

  it('loads with require() as CommonJS too', async () => {
    const run = await node(
      ['-e', "const c = require('@griot/client'); const g = new c.GriotClient({ identity: c.generateIdentity() }); console.log(typeof c.GriotClientError, typeof g.registry.listPackages, c.status.NOT_FOUND); g.close();"],
      project,
    );
    expect(run.stderr).toBe('');
    expect(run.stdout).toBe('function function 5\n');
  });
});
