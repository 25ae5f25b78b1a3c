import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { generateKeyPair, didFromKeyPair, signDocument } from '@griot/did';
import type { content, registry } from '@griot/proto';
import { checkAuthor, InstallError, installedState, installPackage, installPath, installRecordPath, type AgentOptions } from './agent';
import { ServiceClients } from './grpc-call';
import { parseTrustPolicy } from './trust-policy';
import { filesTarGz } from '@griot/test/support/tar-gz';

function signedPackage(bytes: string | Buffer, author = generateKeyPair()): registry.Package {
  const packageId = createHash('sha256').update(bytes).digest('hex');
  const did = didFromKeyPair(author);
  const manifest = signDocument(
    { name: 'hello', version: '1.0.0', nodeClass: 'edge', dependencies: {}, artifact: { digest: `sha256:${packageId}`, size: bytes.length, mediaType: 'application/gzip' }, author: did },
    { keyPair: author },
  );
  return { packageId, manifest, artifactUrl: '', authorDid: did, signature: '', createdAt: new Date(), yanked: false, yankReason: '' };
}

describe('installed packages are known by package id', () => {
  let root: string;
  let options: AgentOptions;
  const clients = new ServiceClients({ service: 'registry', address: '127.0.0.1:1' }, { service: 'content store', address: '127.0.0.1:1' });
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'griot-agent-'));
    options = { clients, node: { ...generateKeyPair(), did: 'did:key:unused' } as AgentOptions['node'], root, audience: 'griot-registry', log: () => undefined, signal: new AbortController().signal };
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));
  afterAll(() => clients.close());

  function installAs(packageId: string | undefined): void {
    mkdirSync(join(installPath(root, 'hello', '1.0.0'), 'bin'), { recursive: true });
    writeFileSync(join(installPath(root, 'hello', '1.0.0'), 'bin', 'hello'), 'old\n');
    if (packageId === undefined) return;
    mkdirSync(join(installRecordPath(root, 'hello', '1.0.0'), '..'), { recursive: true });
    writeFileSync(installRecordPath(root, 'hello', '1.0.0'), JSON.stringify({ packageId, authorDid: 'did:key:x', installedAt: new Date().toISOString() }));
  }

  it('skips the same package id, without asking the content store', async () => {
    const pkg = signedPackage('one');
    installAs(pkg.packageId);
    const lines: string[] = [];
    expect(await installedState(root, pkg, 'hello', '1.0.0')).toEqual({ kind: 'same' });
    expect(await installPackage(options, pkg, (l) => lines.push(l))).toBe('skipped');
    expect(lines).toEqual([`hello@1.0.0: already installed at ${installPath(root, 'hello', '1.0.0')} (package ${pkg.packageId}), skipping`]);
  });

  it('refuses, naming both, another artifact of the same name@version, and leaves it in place', async () => {
    const installed = signedPackage('one');
    const other = signedPackage('two');
    installAs(installed.packageId);
    expect(await installedState(root, other, 'hello', '1.0.0')).toEqual({ kind: 'other', packageId: installed.packageId });
    const attempt = installPackage(options, other, () => undefined);
    await expect(attempt).rejects.toBeInstanceOf(InstallError);
    await expect(attempt).rejects.toThrow(`hello@1.0.0: ${installPath(root, 'hello', '1.0.0')} already holds another artifact (package ${installed.packageId}), not package ${other.packageId}; remove it to install this one`);
    expect(readFileSync(join(installPath(root, 'hello', '1.0.0'), 'bin', 'hello'), 'utf8')).toBe('old\n');
  });

  it('does not take files installed without a record for the package', async () => {
    const pkg = signedPackage('one');
    installAs(undefined);
    expect(await installedState(root, pkg, 'hello', '1.0.0')).toEqual({ kind: 'other', packageId: undefined });
    await expect(installPackage(options, pkg, () => undefined)).rejects.toThrow(/already holds another artifact \(files installed without a record of their package id\)/);
  });

  it('is absent without the folder, whatever a stale record says', async () => {
    const pkg = signedPackage('one');
    mkdirSync(join(installRecordPath(root, 'hello', '1.0.0'), '..'), { recursive: true });
    writeFileSync(installRecordPath(root, 'hello', '1.0.0'), JSON.stringify({ packageId: pkg.packageId }));
    expect(await installedState(root, pkg, 'hello', '1.0.0')).toEqual({ kind: 'absent' });
  });
});

describe('checkAuthor with a trust policy', () => {
  const trusted = generateKeyPair();
  const stranger = generateKeyPair();
  const clients = new ServiceClients({ service: 'registry', address: '127.0.0.1:1' }, { service: 'content store', address: '127.0.0.1:1' });
  afterAll(() => clients.close());
  const options = (authors: Record<string, string[]>): AgentOptions => ({
    clients,
    node: { ...generateKeyPair(), did: 'did:key:unused' } as AgentOptions['node'],
    root: '/nonexistent',
    audience: 'griot-registry',
    log: () => undefined,
    signal: new AbortController().signal,
    trust: { policy: parseTrustPolicy({ authors }, 'trust.json'), source: 'trust.json' },
  });
  const noOwners = () => Promise.reject(new Error('the registry is not asked when there is a policy'));

  it('accepts an allowed author and says which pattern allowed it', async () => {
    const pkg = signedPackage('one', trusted);
    await expect(checkAuthor(options({ '*': [pkg.authorDid] }), pkg, 'hello', '1.0.0', noOwners)).resolves.toBe(
      `hello@1.0.0: author ${pkg.authorDid} is trusted for hello by the trust policy (pattern "*")`,
    );
  });

  it('refuses another author, naming the package, its id and its author', async () => {
    const pkg = signedPackage('one', stranger);
    const allowed = didFromKeyPair(trusted);
    await expect(checkAuthor(options({ '*': [pkg.authorDid], hello: [allowed] }), pkg, 'hello', '1.0.0', noOwners)).rejects.toThrow(
      `hello@1.0.0 (package ${pkg.packageId}) is signed by ${pkg.authorDid}, whom the trust policy trust.json does not allow for hello (its pattern "hello" allows ${allowed})`,
    );
    await expect(checkAuthor(options({ world: [pkg.authorDid] }), pkg, 'hello', '1.0.0', noOwners)).rejects.toThrow(/\(no pattern of the policy matches the name\)$/);
  });

  it('without a policy, accepts only a current owner', async () => {
    const pkg = signedPackage('one', stranger);
    const { trust: _trust, ...withoutPolicy } = options({});
    await expect(checkAuthor(withoutPolicy, pkg, 'hello', '1.0.0', async () => [pkg.authorDid])).resolves.toMatch(/is a current owner of hello according to the registry \(no --trust policy\)$/);
    await expect(checkAuthor(withoutPolicy, pkg, 'hello', '1.0.0', async () => ['did:key:zOwner'])).rejects.toThrow(
      `hello@1.0.0 (package ${pkg.packageId}) is signed by ${pkg.authorDid}, who is not a current owner of hello according to the registry (owners: did:key:zOwner)`,
    );
  });
});

/** Service clients whose content store answers every ReadContent with `bytes`, in chunks of `chunkBytes`. */
function stubContentClients(bytes: Buffer, chunkBytes = 1000): ServiceClients {
  const raw = {
    readContent() {
      const chunks: content.ReadContentResponse[] = [];
      for (let at = 0; at < bytes.length; at += chunkBytes) chunks.push({ data: bytes.subarray(at, at + chunkBytes) } as content.ReadContentResponse);
      return Object.assign(Readable.from(chunks, { objectMode: true }), { cancel: () => undefined });
    },
  };
  return { contentEndpoint: { service: 'content store', address: 'stub' }, content: () => raw } as unknown as ServiceClients;
}

describe('installPackage streams the artifact into a staging folder, which is moved into place only once verified', () => {
  let root: string;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'griot-agent-'));
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));
  const optionsWith = (clients: ServiceClients): AgentOptions => ({
    clients,
    node: { ...generateKeyPair(), did: 'did:key:unused' } as AgentOptions['node'],
    root,
    audience: 'griot-registry',
    log: () => undefined,
    signal: new AbortController().signal,
  });
  /** What is in `<root>/packages`: the installed package's folder and nothing else (no staging folder left). */
  const packagesFolder = (): string[] => (existsSync(join(root, 'packages')) ? readdirSync(join(root, 'packages')) : []);

  it('installs the verified artifact, and says so before it says what it extracted', async () => {
    const artifact = await filesTarGz({ 'bin/hello': '#!/bin/sh\necho hello\n', 'README.md': 'hello\n' });
    const pkg = signedPackage(artifact);
    const lines: string[] = [];
    expect(await installPackage(optionsWith(stubContentClients(artifact)), pkg, (l) => lines.push(l))).toBe('installed');
    expect(readFileSync(join(installPath(root, 'hello', '1.0.0'), 'bin', 'hello'), 'utf8')).toBe('#!/bin/sh\necho hello\n');
    expect(readFileSync(join(installPath(root, 'hello', '1.0.0'), 'README.md'), 'utf8')).toBe('hello\n');
    expect(JSON.parse(readFileSync(installRecordPath(root, 'hello', '1.0.0'), 'utf8'))).toMatchObject({ packageId: pkg.packageId });
    expect(lines.slice(1)).toEqual([`hello@1.0.0: sha256 ${pkg.packageId} verified`, `hello@1.0.0: extracted 2 files, 27 bytes into ${installPath(root, 'hello', '1.0.0')}`]);
    expect(packagesFolder()).toEqual(['hello']);
  });

  it('refuses a valid archive that is not the package, and installs none of it', async () => {
    const artifact = await filesTarGz({ 'bin/hello': 'the real one\n' });
    const pkg = signedPackage(artifact);
    // Another archive of the same size: only the digest tells them apart.
    let other = artifact;
    for (let i = 0; i < 100 && (other === artifact || other.length !== artifact.length); i++) other = await filesTarGz({ 'bin/hello': `another ${i}!\n` });
    expect(other.length).toBe(artifact.length);
    const digest = createHash('sha256').update(other).digest('hex');
    await expect(installPackage(optionsWith(stubContentClients(other)), pkg, () => undefined)).rejects.toThrow(
      new InstallError(`hello@1.0.0: the artifact's SHA-256 is ${digest}, expected ${pkg.packageId}`),
    );
    expect(packagesFolder()).toEqual([]);
    expect(existsSync(installRecordPath(root, 'hello', '1.0.0'))).toBe(false);
  });

  it('reports bytes that are not the package as such, not as the corrupt archive they make', async () => {
    const artifact = await filesTarGz({ 'bin/hello': 'hello\n' });
    const pkg = signedPackage(artifact);
    const garbage = Buffer.alloc(artifact.length, 0x42);
    await expect(installPackage(optionsWith(stubContentClients(garbage, 16)), pkg, () => undefined)).rejects.toThrow(/the artifact's SHA-256 is [0-9a-f]{64}, expected /);
    expect(packagesFolder()).toEqual([]);
  });

  it('stops at more bytes than the manifest says, and at fewer', async () => {
    const artifact = await filesTarGz({ 'bin/hello': 'hello\n' });
    const pkg = signedPackage(artifact);
    await expect(installPackage(optionsWith(stubContentClients(Buffer.concat([artifact, Buffer.from('x')]))), pkg, () => undefined)).rejects.toThrow(
      `hello@1.0.0: the content store sent more than the ${artifact.length} bytes of the artifact`,
    );
    await expect(installPackage(optionsWith(stubContentClients(artifact.subarray(0, artifact.length - 1))), pkg, () => undefined)).rejects.toThrow(
      `hello@1.0.0: the artifact has ${artifact.length - 1} bytes, the manifest says ${artifact.length}`,
    );
    expect(packagesFolder()).toEqual([]);
  });

  it('refuses a hostile archive of the package, and leaves nothing behind', async () => {
    const artifact = await filesTarGz({ 'bin/hello': 'hello\n', '../escaped': 'out\n' });
    const pkg = signedPackage(artifact);
    await expect(installPackage(optionsWith(stubContentClients(artifact)), pkg, () => undefined)).rejects.toMatchObject({ reason: 'PARENT_SEGMENT' });
    expect(packagesFolder()).toEqual([]);
    expect(readdirSync(root)).toEqual(['packages']);
  });
});
