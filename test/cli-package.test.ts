/**
 * The CLI as a user installs it: `pnpm --filter @griot/cli pack` makes one
 * tarball, `npm install -g --prefix TMP --offline` installs it (so it needs no
 * package from any registry, let alone a workspace one), and the installed
 * `griot` runs against services started from their `pnpm deploy --prod`
 * folders with `node dist/main.js`: --version, keygen, publish,
 * verify, jobs ls/cancel, publish --dry-run, and a closed pipe on stdout.
 */
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildWorkspace, deployService, startDeployedService } from '@griot/test/support/deployed';
import { REPO_ROOT, type ServiceProcess } from '@griot/test/support/process';

jest.setTimeout(300_000);

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

describe('the packed CLI, installed with npm', () => {
  let work: string;
  let griot: string;
  let content: ServiceProcess | undefined;
  let registry: ServiceProcess | undefined;
  const deployed: string[] = [];
  let env: NodeJS.ProcessEnv;
  const version = (JSON.parse(readFileSync(join(REPO_ROOT, 'packages/cli/package.json'), 'utf8')) as { version: string }).version;

  /** Runs the installed griot with only Node.js on the PATH, as on a machine without the repository. */
  function run(args: string[]): Promise<Run> {
    return new Promise((resolve) => {
      execFile(griot, args, { env, cwd: work }, (err, stdout, stderr) => {
        resolve({ code: err ? Number((err as NodeJS.ErrnoException & { code?: unknown }).code ?? 1) : 0, stdout, stderr });
      });
    });
  }
  function ok(r: Run): Run {
    if (r.code !== 0) throw new Error(`griot exited with ${r.code}: ${r.stderr}`);
    return r;
  }

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'griot-cli-package-'));
    const packDir = join(work, 'pack');
    const prefix = join(work, 'prefix');
    mkdirSync(packDir);
    // prepack bundles dist/griot.js with esbuild.
    execFileSync('pnpm', ['--filter', '@griot/cli', 'pack', '--pack-destination', packDir], { cwd: REPO_ROOT, stdio: 'pipe' });
    const tarballs = readdirSync(packDir).filter((f) => f.endsWith('.tgz'));
    expect(tarballs).toEqual([`griot-cli-${version}.tgz`]);
    // --offline: the tarball must install from itself alone.
    execFileSync('npm', ['install', '-g', '--prefix', prefix, '--offline', '--no-audit', '--no-fund', join(packDir, tarballs[0]!)], { cwd: work, stdio: 'pipe' });
    griot = join(prefix, 'bin', 'griot');
    expect(existsSync(griot)).toBe(true);
    const installed = join(prefix, 'lib', 'node_modules', '@griot', 'cli');
    expect(readdirSync(installed).sort()).toEqual(['dist', 'package.json']);
    expect(readdirSync(join(installed, 'dist'))).toEqual(['griot.js']);
    expect(existsSync(join(installed, 'node_modules'))).toBe(false);

    // The services as an operator runs them: built, deployed with production dependencies only, started with node.
    await buildWorkspace();
    const [contentDir, registryDir] = [await deployService('content-store'), await deployService('registry')];
    content = await startDeployedService(contentDir, 'content-store', { GRIOT_EMBEDDED_DATABASE: 'pglite', GRIOT_DATA_DIR: join(work, 'content') });
    registry = await startDeployedService(registryDir, 'registry', { GRIOT_EMBEDDED_DATABASE: 'pglite', GRIOT_DATA_DIR: join(work, 'registry'), CONTENT_STORE_ADDR: content.address });
    deployed.push(contentDir, registryDir);
    env = {
      PATH: `${join(process.execPath, '..')}:/usr/bin:/bin`,
      HOME: work,
      GRIOT_REGISTRY: registry.address,
      GRIOT_CONTENT: content.address,
    };
  });

  afterAll(async () => {
    await registry?.stop();
    await content?.stop();
    for (const dir of deployed) rmSync(join(dir, '..'), { recursive: true, force: true });
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('prints its version', async () => {
    expect(ok(await run(['--version'])).stdout).toBe(`${version}\n`);
  });

  it('makes a key, publishes, verifies what it published, and lists and cancels a job', async () => {
    const key = join(work, 'author.key');
    const did = ok(await run(['keygen', '--out', key])).stdout.trim();
    expect(did).toMatch(/^did:key:z6Mk/);

    const pkg = join(work, 'hello');
    mkdirSync(pkg);
    writeFileSync(join(pkg, 'griot.json'), JSON.stringify({ name: 'hello', version: '1.0.0', nodeClass: 'edge' }));
    writeFileSync(join(pkg, 'hello.sh'), 'echo hello\n');

    const dry = JSON.parse(ok(await run(['--json', 'publish', pkg, '--key', key, '--dry-run'])).stdout) as { dryRun: boolean; packageId: string };
    expect(dry.dryRun).toBe(true);
    expect(JSON.parse(ok(await run(['search', '--json'])).stdout)).toEqual({ packages: [] });

    const packageId = ok(await run(['publish', pkg, '--key', key])).stdout.trim();
    expect(packageId).toBe(dry.packageId);

    const verified = ok(await run(['verify', 'hello@1.0.0']));
    expect(verified.stdout).toContain(`signed by: ${did}`);
    expect(JSON.parse(ok(await run(['verify', packageId, '--json'])).stdout)).toMatchObject({ verified: true, packageId, signer: did, digest: `sha256:${packageId}` });

    // A refused griot.json leaves nothing behind: the version must be semver, as the registry says.
    writeFileSync(join(pkg, 'griot.json'), JSON.stringify({ name: 'hello', version: '2.0', nodeClass: 'edge' }));
    const refused = await run(['publish', pkg, '--key', key]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/"version" "2\.0" is not a semantic version/);
    expect((JSON.parse(ok(await run(['search', '--json'])).stdout) as { packages: unknown[] }).packages).toHaveLength(1);

    const node = join(work, 'node.key');
    const nodeDid = ok(await run(['keygen', '--out', node])).stdout.trim();
    const jobId = ok(await run(['install', 'hello@1.0.0', '--node', node])).stdout.trim();
    const listed = JSON.parse(ok(await run(['jobs', 'ls', '--json', '--status', 'pending', '--node', node])).stdout) as { jobs: { jobId: string; status: string; targetNodeId: string }[] };
    expect(listed.jobs).toEqual([expect.objectContaining({ jobId, status: 'pending', targetNodeId: nodeDid })]);
    const cancelled = ok(await run(['jobs', 'cancel', jobId, '--node', node, '--reason', 'not today']));
    expect(cancelled.stdout).toContain(`job ${jobId} cancelled`);
    expect(JSON.parse(ok(await run(['jobs', 'ls', '--json', '--status', 'pending', '--node', node])).stdout)).toEqual({ jobs: [] });
  });

  it('exits quietly when stdout is a closed pipe', async () => {
    const quoted = `'${griot}'`;
    for (const reader of ['head -1', 'true']) {
      const r = await new Promise<Run>((resolve) => {
        execFile('sh', ['-c', `{ ${quoted} search --json; echo "griot exited $?" >&2; } | ${reader}`], { env }, (err, stdout, stderr) => resolve({ code: err ? 1 : 0, stdout, stderr }));
      });
      expect(r.stderr).toBe('griot exited 0\n');
      if (reader === 'head -1') expect(r.stdout).toBe('{\n');
    }
  });
});
