import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import { verifyDocument, verifyNodeToken } from '@griot/did';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { findCommand, runCli } from './cli';
import { ExitCode } from './cli-error';
import { parseTags } from './commands/content';
import { parsePackageRef } from './package-ref';

async function run(argv: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (c: Buffer) => (out += c.toString()));
  stderr.on('data', (c: Buffer) => (err += c.toString()));
  const code = await runCli(argv, { stdout, stderr, env });
  return { code, stdout: out, stderr: err };
}

describe('runCli', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'griot-cli-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('prints help and exits 2 without a command, 0 with --help', async () => {
    expect((await run([])).code).toBe(ExitCode.USAGE);
    const help = await run(['--help']);
    expect(help.code).toBe(ExitCode.OK);
    expect(help.stdout).toContain('griot content put FILE');
  });

  it.each([
    [['bogus'], /unknown command "bogus"/],
    [['content', 'bogus'], /unknown command "content bogus"/],
    [['search', '--bogus'], /Unknown option '--bogus'/],
    [['show'], /missing argument/],
    [['show', 'a', 'b'], /too many arguments/],
    [['keygen'], /--out is required/],
    [['search', '--where', '[1]'], /--where must be a JSON object/],
    [['search', '--where', '{'], /--where is not JSON/],
    [['content', 'put', 'x', '--tag', 'novalue'], /not key=value/],
  ])('exits 2 for %j', async (argv, message) => {
    const r = await run(argv);
    expect(r.code).toBe(ExitCode.USAGE);
    expect(r.stderr).toMatch(message);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('writes a key file with mode 0600 and prints its DID; refuses to overwrite', async () => {
    const file = join(dir, 'author.json');
    const r = await run(['keygen', '--out', file]);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toMatch(/^did:key:z6Mk/);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const again = await run(['keygen', '--out', file]);
    expect(again.code).toBe(ExitCode.FAILURE);
    expect(again.stderr).toMatch(/already exists/);
    const json = await run(['keygen', '--out', file, '--force', '--json']);
    expect(JSON.parse(json.stdout)).toEqual({ did: expect.stringMatching(/^did:key:/), file });
  });

  it('packs reproducibly and prints the package id', async () => {
    const pkg = join(dir, 'pkg');
    mkdirSync(pkg);
    writeFileSync(join(pkg, 'griot.json'), JSON.stringify({ name: 'hello', version: '1.0.0', nodeClass: 'edge', dependencies: {} }));
    writeFileSync(join(pkg, 'a.txt'), 'a');
    const one = await run(['pack', pkg, '-o', join(dir, 'one.tgz'), '--json']);
    const two = await run(['pack', pkg, '-o', join(dir, 'two.tgz')]);
    expect(one.code).toBe(0);
    expect(two.stdout.trim()).toBe(JSON.parse(one.stdout).packageId);
    expect(two.stdout.trim()).toMatch(/^[0-9a-f]{64}$/);
  });

  it('says which address cannot be reached, in one line, with exit code 3', async () => {
    const r = await run(['search'], { GRIOT_REGISTRY: '127.0.0.1:1' });
    expect(r.code).toBe(ExitCode.UNAVAILABLE);
    expect(r.stderr).toBe('griot: cannot reach the registry at 127.0.0.1:1 (connection refused)\n');
    const c = await run(['content', 'ls', '--content', '127.0.0.1:1']);
    expect(c.code).toBe(ExitCode.UNAVAILABLE);
    expect(c.stderr).toMatch(/^griot: cannot reach the content store at 127\.0\.0\.1:1/);
  });

  it('exits 4 for a missing key file', async () => {
    const r = await run(['install', 'x@1', '--node', join(dir, 'missing.json')]);
    expect(r.code).toBe(ExitCode.NOT_FOUND);
    expect(r.stderr).toMatch(/node key file .* not found/);
  });
});

describe('helpers', () => {
  it('finds two-word commands first', () => {
    expect(findCommand(['content', 'put', 'f'])?.command.name).toBe('content put');
    expect(findCommand(['logs', 'x'])?.rest).toEqual(['x']);
  });

  it('parses package references', () => {
    expect(parsePackageRef('hello@1.0.0')).toEqual({ name: 'hello', version: '1.0.0' });
    expect(parsePackageRef('@acme/hello@2.0.0')).toEqual({ name: '@acme/hello', version: '2.0.0' });
    expect(parsePackageRef('hello')).toEqual({ name: 'hello' });
    expect(parsePackageRef('a'.repeat(64))).toEqual({ packageId: 'a'.repeat(64) });
  });

  it('parses tags', () => {
    expect(parseTags(['a=1', 'b=x=y', 'c='])).toEqual({ a: '1', b: 'x=y', c: '' });
  });
});

describe('tools for other clients', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'griot-cli-tools-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('prints a node token the registry would accept, for the chosen audience and lifetime', async () => {
    const key = join(dir, 'node.json');
    const did = (await run(['keygen', '--out', key])).stdout.trim();
    const r = await run(['token', '--node', key, '--ttl', '120'], { GRIOT_AUDIENCE: 'my-registry' });
    expect(r.code).toBe(0);
    const verified = verifyNodeToken(r.stdout.trim(), { audience: 'my-registry' });
    expect(verified.did).toBe(did);
    expect(verified.expiresAt - verified.issuedAt).toBe(120);
    expect(() => verifyNodeToken(r.stdout.trim(), { audience: 'griot-registry' })).toThrow();
    expect((await run(['token', '--node', key, '--ttl', '3600'])).code).toBe(ExitCode.USAGE);
  });

  it('prints a RegisterPackage body whose manifest verifies against the author and names the packed artifact', async () => {
    const key = join(dir, 'author.json');
    const did = (await run(['keygen', '--out', key])).stdout.trim();
    const pkg = join(dir, 'pkg');
    mkdirSync(pkg);
    writeFileSync(join(pkg, 'griot.json'), JSON.stringify({ name: 'tool', version: '0.1.0', nodeClass: 'edge', dependencies: { base: '^1' } }));
    writeFileSync(join(pkg, 'run.sh'), 'echo hi\n');
    const artifact = join(dir, 'tool.tgz');
    const r = await run(['sign', pkg, '--key', key, '-o', artifact]);
    expect(r.code).toBe(0);
    const body = JSON.parse(r.stdout) as { package_id: string; manifest: Record<string, unknown>; artifact_url: string };
    expect(body.package_id).toBe(createHash('sha256').update(readFileSync(artifact)).digest('hex'));
    expect(body.artifact_url).toBe(`griot-content://sha256/${body.package_id}`);
    expect(body.manifest).toMatchObject({ name: 'tool', version: '0.1.0', nodeClass: 'edge', dependencies: { base: '^1' }, author: did });
    expect(verifyDocument(body.manifest, { expectedController: did }).controller).toBe(did);
    expect((await run(['pack', pkg, '-o', join(dir, 'again.tgz')])).stdout.trim()).toBe(body.package_id);
  });
});
