import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import { didFromKeyPair, generateKeyPair, verifyCallerToken, verifyDocument, verifyNodeToken } from '@griot/did';
import type { registry } from '@griot/proto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { findCommand, runCli, splitLeadingGlobals } from './cli';
import { COMMANDS } from './commands';
import { parseJobStatus } from './commands/jobs';
import { parseDescriptor } from '@griot/client';
import { EXAMPLES, OPTION_HELP } from './help';
import { ExitCode } from './cli-error';
import { parseTags } from './commands/content';
import { pickVersion } from './commands/yank';
import { parsePackageRef } from './package-ref';
import { refusalLine } from './refusals';

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

const DID = didFromKeyPair(generateKeyPair());

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
    [['owner', 'bogus'], /unknown command "owner bogus"/],
    [['owner', 'add', 'Hello', 'did:key:z6Mk'], /"Hello" is not a package name/],
    [['owner', 'add', 'hello', 'did:web:example.com'], /"did:web:example.com" is not a did:key/],
    [['owner', 'rm', 'hello'], /missing argument/],
    [['owner', 'add', 'hello', DID], /--key FILE \(or GRIOT_KEY\) is required: only an owner of the package name may add owners/],
    [['yank', 'hello@1.0.0'], /--key FILE \(or GRIOT_KEY\) is required: only an owner of the package name may yank/],
    [['install', 'hello@1.0.0'], /--node FILE or --key FILE \(or GRIOT_KEY\) is required: a node installs on itself/],
    [['install', 'hello@1.0.0', '--node', 'a.json', '--key', 'b.json'], /give --key FILE or --node FILE, not both/],
    [['install', 'hello@1.0.0', '--target', 'node-1', '--key', 'b.json'], /--target "node-1" is not a did:key/],
    [['logs', 'job'], /--node FILE or --key FILE \(or GRIOT_KEY\) is required: a job's log is read with a token of its node, its creator or an operator/],
    [['token'], /--node FILE or --key FILE \(or GRIOT_KEY\) is required/],
    [['agent', '--trust', '/nonexistent/trust.json', '--node', 'n.json', '--root', 'r'], /^griot: trust policy \/nonexistent\/trust\.json: no such file$/m],
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

  it('refuses a yank reason longer than the registry keeps', async () => {
    const r = await run(['yank', 'hello@1.0.0', '--key', 'k.json', '--reason', 'x'.repeat(1025)]);
    expect(r).toMatchObject({ code: ExitCode.USAGE, stderr: 'griot: --reason is 1025 characters; at most 1024\n' });
  });

  it('stops the agent at start on an invalid trust policy, in one line', async () => {
    const policy = join(dir, 'trust.json');
    writeFileSync(policy, JSON.stringify({ authors: { '*': ['did:key:nope'] } }));
    const r = await run(['agent', '--trust', policy, '--node', join(dir, 'missing.json'), '--root', dir]);
    expect(r.code).toBe(ExitCode.USAGE);
    expect(r.stderr).toMatch(/^griot: trust policy .*trust\.json: authors\["\*"\]\[0\]: "did:key:nope" is not an Ed25519 did:key/);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
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

  it('prints a caller token for --key or GRIOT_KEY, for the audience asked', async () => {
    const key = join(dir, 'op.json');
    const did = (await run(['keygen', '--out', key])).stdout.trim();
    const content = await run(['token', '--key', key, '--audience', 'griot-content', '--json']);
    expect(content.code).toBe(0);
    const printed = JSON.parse(content.stdout) as { token: string; did: string; audience: string; ttlSeconds: number };
    expect(printed).toMatchObject({ did, audience: 'griot-content', ttlSeconds: 60 });
    expect(verifyCallerToken(printed.token, { audience: 'griot-content' }).did).toBe(did);
    const fromEnv = await run(['token'], { GRIOT_KEY: key });
    expect(verifyCallerToken(fromEnv.stdout.trim(), { audience: 'griot-registry' }).did).toBe(did);
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

describe('refusals', () => {
  it('adds who may do it, unless the server already said so', () => {
    expect(refusalLine('did:key:zB is not an owner of hello', 'NOT_A_PACKAGE_OWNER', { name: 'hello', owners: 'did:key:zA,did:key:zC' })).toBe(
      'did:key:zB is not an owner of hello; only an owner of hello may do this (owners: did:key:zA, did:key:zC); see griot owner ls hello',
    );
    expect(refusalLine('did:key:zB may not publish hello@2: hello is owned by did:key:zA', 'NOT_A_PACKAGE_OWNER', { name: 'hello', owners: 'did:key:zA' })).toBe(
      'did:key:zB may not publish hello@2: hello is owned by did:key:zA; only an owner of hello may do this; see griot owner ls hello',
    );
    expect(refusalLine('only the job\'s node, its creator or an operator may read job j', 'NOT_JOB_READER')).toBe("only the job's node, its creator or an operator may read job j");
    expect(refusalLine('not yours.', 'NOT_MANIFEST_CREATOR')).toMatch(/^not yours; only the manifest's creator or a content operator/);
    expect(refusalLine('did:key:zX may not create jobs for did:key:zN', 'NOT_AN_OPERATOR')).toMatch(/for another node, only an operator may \(a DID in the registry's REGISTRY_OPERATORS\)$/);
    expect(refusalLine('denied\nsecond line', undefined)).toBe('denied second line');
  });
});

describe('pickVersion', () => {
  const pkg = (id: string, yanked: boolean) => ({ packageId: id.repeat(64), authorDid: 'did:key:zA', yanked }) as registry.Package;

  it('picks the live version to yank and the yanked one to unyank', () => {
    const both = [pkg('a', false), pkg('b', true)];
    expect(pickVersion('hello@1.0.0', both, false).packageId).toBe('a'.repeat(64));
    expect(pickVersion('hello@1.0.0', both, true).packageId).toBe('b'.repeat(64));
    // Nothing yanked to unyank: the registry answers for the live one.
    expect(pickVersion('hello@1.0.0', [pkg('a', false)], true).packageId).toBe('a'.repeat(64));
  });

  it('asks for the package id when several match, and says when none does', () => {
    expect(() => pickVersion('hello@1.0.0', [pkg('a', true), pkg('b', true)], true)).toThrow(/2 packages are hello@1\.0\.0; give the package id instead: a{64} \(author did:key:zA, yanked\), b{64}/);
    expect(() => pickVersion('hello@1.0.0', [], false)).toThrow(/package hello@1\.0\.0 not found/);
  });
});

describe('command line UX', () => {
  it('prints the version with --version, -V and version', async () => {
    const { version } = JSON.parse(readFileSync(join(__dirname, '..', 'package.json'), 'utf8')) as { version: string };
    for (const argv of [['--version'], ['-V'], ['version'], ['--json', '--version']]) {
      const r = await run(argv);
      expect(r.code).toBe(ExitCode.OK);
      expect(r.stdout).toBe(`${version}\n`);
    }
  });

  it('accepts global options before the command as after it', async () => {
    expect(splitLeadingGlobals(['--json', '--registry', 'h:1', 'search', '--name', 'x'])).toEqual({ globals: ['--json', '--registry', 'h:1'], rest: ['search', '--name', 'x'] });
    expect(splitLeadingGlobals(['--registry=h:1', 'search'])).toEqual({ globals: ['--registry=h:1'], rest: ['search'] });
    expect(splitLeadingGlobals(['search', '--json'])).toEqual({ globals: [], rest: ['search', '--json'] });
    // The leading options reach the command: --json before `token` gives JSON, as after it.
    const key = join(tmpdir(), `griot-cli-key-${process.pid}.json`);
    try {
      expect((await run(['keygen', '--out', key])).code).toBe(ExitCode.OK);
      const before = await run(['--json', '--audience', 'griot-content', 'token', '--key', key]);
      expect(before.code).toBe(ExitCode.OK);
      expect(JSON.parse(before.stdout)).toMatchObject({ audience: 'griot-content' });
      const after = await run(['token', '--key', key, '--json', '--audience', 'griot-content']);
      expect(JSON.parse(after.stdout)).toMatchObject({ audience: 'griot-content' });
    } finally {
      rmSync(key, { force: true });
    }
    // An unknown option before the command is not taken for a command.
    expect((await run(['--nope', 'search'])).code).toBe(ExitCode.USAGE);
  });

  it('describes every option of every command on one line, with an example', async () => {
    for (const command of COMMANDS) {
      expect(EXAMPLES[command.name]).toMatch(/^griot /);
      const viaHelp = await run(['help', ...command.name.split(' ')]);
      const viaOption = await run([...command.name.split(' '), '--help']);
      expect(viaHelp.code).toBe(ExitCode.OK);
      expect(viaOption.stdout).toBe(viaHelp.stdout);
      expect(viaHelp.stdout).toContain(`usage: griot ${command.usage}`);
      expect(viaHelp.stdout).toContain(`example:\n  ${EXAMPLES[command.name]!}`);
      for (const name of Object.keys(command.options)) {
        const line = viaHelp.stdout.split('\n').find((l) => l.includes(`--${name} `) || l.endsWith(`--${name}`) || l.includes(`--${name}  `));
        expect(line).toBeDefined();
        expect(OPTION_HELP[name] ?? '').not.toBe('');
      }
    }
    const unknown = await run(['help', 'nope']);
    expect(unknown.code).toBe(ExitCode.USAGE);
  });

  it('prints bash and zsh completion scripts naming every command', async () => {
    const bash = await run(['completion', 'bash']);
    expect(bash.code).toBe(ExitCode.OK);
    expect(bash.stdout).toContain('complete -o filenames -F _griot griot');
    const zsh = await run(['completion', 'zsh']);
    expect(zsh.stdout).toMatch(/^#compdef griot/);
    for (const command of COMMANDS) {
      expect(bash.stdout).toContain(`"${command.name}")`);
      expect(zsh.stdout).toContain(`"${command.name}")`);
    }
    expect(bash.stdout).toContain('--dry-run');
    expect((await run(['completion', 'fish'])).code).toBe(ExitCode.USAGE);
  });

  it('parses job statuses', () => {
    expect(parseJobStatus('pending')).toBe(1);
    expect(parseJobStatus('CANCELLED')).toBe(5);
    expect(parseJobStatus(undefined)).toBe(0);
    expect(() => parseJobStatus('done')).toThrow(/--status must be one of pending, running, completed, failed, cancelled/);
  });

  it('checks griot.json with the registry rules, naming every field at fault once', () => {
    expect(parseDescriptor({ name: 'hello', version: '1.0.0', nodeClass: 'edge' })).toEqual({ name: 'hello', version: '1.0.0', nodeClass: 'edge', dependencies: {} });
    expect(() => parseDescriptor({ name: 'hello', version: '1.0', nodeClass: 'edge' })).toThrow('griot.json: "version" "1.0" is not a semantic version such as 1.2.3');
    let message = '';
    try {
      parseDescriptor({ name: 'Hello', version: 'v1', nodeClass: '', dependencies: { lib: 'not a range!' } });
    } catch (err) {
      message = (err as Error).message;
    }
    for (const field of ['"name"', '"version"', '"nodeClass"', '"dependencies.lib"']) expect(message.split(field)).toHaveLength(2);
  });

  it('refuses a publish whose griot.json the registry would refuse, before connecting to anything', async () => {
    const key = join(tmpdir(), `griot-cli-pub-${process.pid}.json`);
    const pkg = mkdtempSync(join(tmpdir(), 'griot-cli-pkg-'));
    try {
      expect((await run(['keygen', '--out', key])).code).toBe(ExitCode.OK);
      writeFileSync(join(pkg, 'griot.json'), JSON.stringify({ name: 'hello', version: '1.0', nodeClass: 'edge' }));
      writeFileSync(join(pkg, 'a.txt'), 'a');
      // Port 1 answers nothing: a refusal made locally never gets that far.
      const r = await run(['publish', pkg, '--key', key, '--registry', '127.0.0.1:1', '--content', '127.0.0.1:1']);
      expect(r.code).toBe(ExitCode.FAILURE);
      expect(r.stderr).toMatch(/"version" "1\.0" is not a semantic version/);
      expect(r.stderr).not.toMatch(/cannot reach/);
      writeFileSync(join(pkg, 'griot.json'), JSON.stringify({ name: 'hello', version: '1.0.0', nodeClass: 'edge' }));
      const dry = await run(['publish', pkg, '--key', key, '--dry-run', '--json', '--registry', '127.0.0.1:1', '--content', '127.0.0.1:1']);
      expect(dry.code).toBe(ExitCode.OK);
      const out = JSON.parse(dry.stdout) as { dryRun: boolean; name: string; manifest: Record<string, unknown> };
      expect(out).toMatchObject({ dryRun: true, name: 'hello' });
      expect(verifyDocument(out.manifest).controller).toMatch(/^did:key:/);
    } finally {
      rmSync(key, { force: true });
      rmSync(pkg, { recursive: true, force: true });
    }
  });
});
