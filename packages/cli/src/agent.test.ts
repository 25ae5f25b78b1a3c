import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { generateKeyPair, didFromKeyPair, signDocument } from '@griot/did';
import { registry } from '@griot/proto';
import { checkAuthor, InstallError, installedState, installPackage, installPath, installRecordPath, type AgentOptions } from './agent';
import { ServiceClients } from './grpc-call';
import { parseTrustPolicy } from './trust-policy';

function signedPackage(bytes: string, author = generateKeyPair()): registry.Package {
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
