/**
 * RegisterPackage, GetPackage, ListPackages and ResolveDependencies through
 * the generated client, on PostgreSQL and PGlite, with a stub content store.
 */
import { registry } from '@griot/proto';
import { decodeStatusDetails } from '@griot/client';
import { DB_KINDS } from '@griot/test/support/database';
import { call, failure, newIdentity, signedPackage, startTestRegistry, Status, type Identity, type SignedPackage, type TestRegistry } from './support/harness';

type Client = registry.RegistryServiceClient;
const C: registry.RegistryServiceClient = registry.RegistryServiceClient.prototype;

function register(client: Client, pkg: SignedPackage, artifactUrl = '') {
  return call(client, C.registerPackage, { packageId: pkg.packageId, manifest: pkg.manifest, artifactUrl });
}

/** Registers a package the stub store holds. */
async function publish(t: TestRegistry, author: Identity, spec: Parameters<typeof signedPackage>[1]): Promise<SignedPackage> {
  const pkg = signedPackage(author, spec);
  t.store.blobs.set(pkg.packageId, pkg.size);
  await register(t.client, pkg);
  return pkg;
}

async function expectNoPackage(t: TestRegistry, packageId: string) {
  const err = await failure(call(t.client, C.getPackage, { packageId }));
  expect(err.code).toBe(Status.NOT_FOUND);
}

describe.each(DB_KINDS)('packages on %s', (kind) => {
  let t: TestRegistry;
  const author = newIdentity();
  beforeAll(async () => {
    t = await startTestRegistry(kind, { env: { REGISTRY_MAX_MANIFEST_BYTES: '2KiB' } });
  });
  afterAll(() => t.stop());

  describe('RegisterPackage', () => {
    it('registers a signed package after asking the content store, passing the request id and a deadline', async () => {
      const pkg = signedPackage(author, { name: 'alpha', version: '1.0.0' });
      t.store.blobs.set(pkg.packageId, pkg.size);
      const metadata = new (await import('@grpc/grpc-js')).Metadata();
      metadata.set('x-request-id', 'req-register-1');
      const res = await call(t.client, C.registerPackage, { packageId: pkg.packageId, manifest: pkg.manifest, artifactUrl: '' }, metadata);
      expect(res.alreadyRegistered).toBe(false);
      expect(res.package).toMatchObject({
        packageId: pkg.packageId,
        authorDid: author.did,
        artifactUrl: `griot-content://sha256/${pkg.packageId}`,
        signature: (pkg.manifest.proof as { proofValue: string }).proofValue,
      });
      expect(res.package!.manifest).toEqual(pkg.manifest);
      expect(t.store.calls.find((c) => c.sha256 === pkg.packageId)).toMatchObject({ sha256: pkg.packageId, requestId: 'req-register-1', hadDeadline: true });
      const got = await call(t.client, C.getPackage, { packageId: pkg.packageId });
      expect(got.package!.manifest).toEqual(pkg.manifest);
    });

    it('answers the same package again when it is registered twice, and ALREADY_EXISTS for a different manifest', async () => {
      const pkg = await publish(t, author, { name: 'beta', version: '1.0.0' });
      const again = await register(t.client, pkg);
      expect(again.alreadyRegistered).toBe(true);
      expect(again.package!.packageId).toBe(pkg.packageId);
      // The same manifest signed again (a new proof, a new created time) is the same package.
      const { signDocument: resign } = await import('@griot/did');
      const { proof: firstProof, ...sameUnsigned } = pkg.manifest;
      const resigned = resign(sameUnsigned, { keyPair: author.keyPair, created: new Date(Date.now() + 5000) });
      expect(resigned.proof.proofValue).not.toBe((firstProof as { proofValue: string }).proofValue);
      const resignedAgain = await register(t.client, { ...pkg, manifest: resigned });
      expect(resignedAgain.alreadyRegistered).toBe(true);
      expect(resignedAgain.package!.signature).toBe((firstProof as { proofValue: string }).proofValue);
      const other = signedPackage(author, { name: 'beta', version: '2.0.0' });
      const forged = { ...other, packageId: pkg.packageId };
      // Same artifact digest, different content: re-sign a manifest for the same artifact.
      const { signDocument } = await import('@griot/did');
      const { proof: _p, ...unsigned } = pkg.manifest;
      forged.manifest = signDocument({ ...unsigned, version: '1.0.1' }, { keyPair: author.keyPair });
      const err = await failure(register(t.client, forged));
      expect(err.code).toBe(Status.ALREADY_EXISTS);
      expect(err.details).toMatch(/different manifest/);
      expect((await call(t.client, C.getPackage, { packageId: pkg.packageId })).package!.manifest).toEqual(pkg.manifest);
    });

    it('accepts an outside artifact URL without asking the content store', async () => {
      const pkg = signedPackage(author, { name: 'outside', version: '1.0.0' });
      const before = t.store.calls.length;
      const res = await register(t.client, pkg, 'https://example.org/outside-1.0.0.tgz');
      expect(res.package!.artifactUrl).toBe('https://example.org/outside-1.0.0.tgz');
      expect(t.store.calls.length).toBe(before);
    });

    it('writes nothing when the content store does not hold the artifact', async () => {
      const pkg = signedPackage(author, { name: 'missing', version: '1.0.0' });
      const err = await failure(register(t.client, pkg));
      expect(err.code).toBe(Status.FAILED_PRECONDITION);
      expect(decodeStatusDetails(err.metadata).reason).toBe('ARTIFACT_NOT_FOUND');
      await expectNoPackage(t, pkg.packageId);
    });

    it('writes nothing when the content store holds another size, and names both sizes', async () => {
      const pkg = signedPackage(author, { name: 'sized', version: '1.0.0' });
      t.store.blobs.set(pkg.packageId, pkg.size + 1);
      const err = await failure(register(t.client, pkg));
      expect(err.code).toBe(Status.FAILED_PRECONDITION);
      expect(decodeStatusDetails(err.metadata).reason).toBe('ARTIFACT_SIZE_MISMATCH');
      expect(err.details).toContain(`${pkg.size} bytes`);
      expect(err.details).toContain(`${pkg.size + 1} bytes`);
      await expectNoPackage(t, pkg.packageId);
    });

    it('answers UNAVAILABLE naming the address when the content store cannot be reached', async () => {
      const down = await startTestRegistry(kind, { env: { CONTENT_STORE_ADDR: '127.0.0.1:1', REGISTRY_CONTENT_DEADLINE: '500ms' } });
      try {
        const pkg = signedPackage(author, { name: 'unreachable', version: '1.0.0' });
        const err = await failure(register(down.client, pkg));
        expect(err.code).toBe(Status.UNAVAILABLE);
        expect(err.details).toContain('127.0.0.1:1');
        await expectNoPackage(down, pkg.packageId);
      } finally {
        await down.stop();
      }
    });
  });

  describe('bad input', () => {
    const other = newIdentity();
    const base = () => signedPackage(author, { name: 'bad', version: '1.0.0' });
    const resign = (pkg: SignedPackage, change: (m: Record<string, unknown>) => void, signer: Identity = author) => {
      const { proof: _p, ...unsigned } = pkg.manifest;
      change(unsigned);
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const { signDocument } = require('@griot/did') as typeof import('@griot/did');
      return { ...pkg, manifest: signDocument(unsigned, { keyPair: signer.keyPair }) };
    };
    const cases: [string, () => { packageId: string; manifest: Record<string, unknown> | undefined; artifactUrl?: string }, number, string, string?][] = [
      ['an empty package id', () => ({ ...base(), packageId: '' }), Status.INVALID_ARGUMENT, 'MISSING_FIELD', 'package_id'],
      ['an uppercase package id', () => { const p = base(); return { ...p, packageId: p.packageId.toUpperCase() }; }, Status.INVALID_ARGUMENT, 'INVALID_SHA256', 'package_id'],
      ['a short package id', () => ({ ...base(), packageId: 'abc123' }), Status.INVALID_ARGUMENT, 'INVALID_SHA256', 'package_id'],
      ['no manifest', () => ({ ...base(), manifest: undefined }), Status.INVALID_ARGUMENT, 'MISSING_FIELD', 'manifest'],
      ['an oversize manifest', () => resign(base(), (m) => { m['readme'] = 'x'.repeat(4096); }), Status.INVALID_ARGUMENT, 'MANIFEST_TOO_LARGE', 'manifest'],
      ['a manifest without version', () => resign(base(), (m) => { delete m['version']; }), Status.INVALID_ARGUMENT, 'INVALID_MANIFEST', 'manifest.version'],
      ['a manifest without name', () => resign(base(), (m) => { delete m['name']; }), Status.INVALID_ARGUMENT, 'INVALID_MANIFEST', 'manifest.name'],
      ['a manifest without nodeClass', () => resign(base(), (m) => { delete m['nodeClass']; }), Status.INVALID_ARGUMENT, 'INVALID_MANIFEST', 'manifest.nodeClass'],
      ['a manifest without dependencies', () => resign(base(), (m) => { delete m['dependencies']; }), Status.INVALID_ARGUMENT, 'INVALID_MANIFEST', 'manifest.dependencies'],
      ['a manifest without artifact', () => resign(base(), (m) => { delete m['artifact']; }), Status.INVALID_ARGUMENT, 'INVALID_MANIFEST', 'manifest.artifact'],
      ['a bad dependency range', () => resign(base(), (m) => { m['dependencies'] = { lib: 'not a range!' }; }), Status.INVALID_ARGUMENT, 'INVALID_MANIFEST', 'manifest.dependencies.lib'],
      ['a version that is not semver', () => resign(base(), (m) => { m['version'] = 'one'; }), Status.INVALID_ARGUMENT, 'INVALID_MANIFEST', 'manifest.version'],
      ['a tampered manifest', () => { const p = base(); return { ...p, manifest: { ...p.manifest, version: '9.9.9' } }; }, Status.INVALID_ARGUMENT, 'INVALID_SIGNATURE', 'manifest.proof'],
      ['a manifest signed by someone else than its author', () => resign(base(), () => undefined, other), Status.INVALID_ARGUMENT, 'UNEXPECTED_CONTROLLER', 'manifest.proof'],
      ['an unsigned manifest', () => { const p = base(); const { proof: _x, ...m } = p.manifest; return { ...p, manifest: m }; }, Status.INVALID_ARGUMENT, 'INVALID_MANIFEST', 'manifest.proof'],
      ['a package id that is not the artifact digest', () => ({ ...base(), packageId: 'a'.repeat(64) }), Status.INVALID_ARGUMENT, 'PACKAGE_ID_MISMATCH', 'package_id'],
      ['an artifact URL of another blob', () => ({ ...base(), artifactUrl: `griot-content://sha256/${'b'.repeat(64)}` }), Status.INVALID_ARGUMENT, 'ARTIFACT_URL_MISMATCH', 'artifact_url'],
      ['an artifact URL with an unknown scheme', () => ({ ...base(), artifactUrl: 'ftp://example.org/x.tgz' }), Status.INVALID_ARGUMENT, 'INVALID_ARTIFACT_URL', 'artifact_url'],
    ];
    it.each(cases)('RegisterPackage rejects %s and writes nothing', async (_name, make, code, reason, field) => {
      const req = make();
      const err = await failure(call(t.client, C.registerPackage, { packageId: req.packageId, manifest: req.manifest, artifactUrl: req.artifactUrl ?? '' }));
      expect({ code: err.code, reason: decodeStatusDetails(err.metadata).reason }).toEqual({ code, reason });
      if (field) expect(decodeStatusDetails(err.metadata).violations.map((v) => v.field)).toContain(field);
      expect(err.details.length).toBeGreaterThan(10);
      if (/^[0-9a-f]{64}$/.test(req.packageId)) await expectNoPackage(t, req.packageId);
    });

    it('reports every missing field at once', async () => {
      const pkg = resign(base(), (m) => { delete m['name']; delete m['version']; delete m['nodeClass']; });
      const err = await failure(register(t.client, pkg));
      expect(decodeStatusDetails(err.metadata).violations.map((v) => v.field)).toEqual(['manifest.name', 'manifest.version', 'manifest.nodeClass']);
    });

    const badIds: [string, string, number][] = [
      ['', 'MISSING_FIELD', Status.INVALID_ARGUMENT],
      ['xyz', 'INVALID_SHA256', Status.INVALID_ARGUMENT],
      ['0'.repeat(64), 'PACKAGE_NOT_FOUND', Status.NOT_FOUND],
    ];
    it.each(badIds)('GetPackage and ResolveDependencies reject package id "%s" with %s', async (packageId, reason, code) => {
      for (const method of [C.getPackage, C.resolveDependencies]) {
        const err = await failure(call(t.client, method as typeof C.getPackage, { packageId }));
        expect({ code: err.code, reason: decodeStatusDetails(err.metadata).reason }).toEqual({ code, reason });
      }
    });
  });

  describe('ListPackages', () => {
    const lister = newIdentity();
    const made: SignedPackage[] = [];
    beforeAll(async () => {
      for (let i = 0; i < 5; i++) {
        made.push(await publish(t, lister, { name: `listed-${i % 2}`, version: `1.${i}.0`, nodeClass: i < 3 ? 'edge' : 'core', extra: { labels: { tier: i % 2 === 0 ? 'gold' : 'silver' } } }));
      }
    });
    const list = (req: Partial<registry.ListPackagesRequest>) => call(t.client, C.listPackages, registry.ListPackagesRequest.fromPartial({ authorDid: lister.did, ...req }));
    const ids = (res: registry.ListPackagesResponse) => res.packages.map((p) => p.packageId);

    it('filters by author, newest first', async () => {
      expect(ids(await list({}))).toEqual([...made].reverse().map((p) => p.packageId));
    });
    it('filters by name, version and node class', async () => {
      expect(ids(await list({ name: 'listed-1' }))).toEqual([made[3]!.packageId, made[1]!.packageId]);
      expect(ids(await list({ version: '1.2.0' }))).toEqual([made[2]!.packageId]);
      expect(ids(await list({ nodeClass: 'core' }))).toEqual([made[4]!.packageId, made[3]!.packageId]);
      expect(ids(await list({ authorDid: newIdentity().did }))).toEqual([]);
    });
    it('filters by manifest containment', async () => {
      expect(ids(await list({ manifestContains: { labels: { tier: 'gold' } } }))).toEqual([made[4]!.packageId, made[2]!.packageId, made[0]!.packageId]);
      expect(ids(await list({ manifestContains: { labels: { tier: 'gold' } }, nodeClass: 'edge' }))).toEqual([made[2]!.packageId, made[0]!.packageId]);
    });
    it('pages with opaque tokens until an empty token', async () => {
      const seen: string[] = [];
      let token = '';
      let pages = 0;
      do {
        const res = await list({ pageSize: 2, pageToken: token });
        seen.push(...ids(res));
        token = res.nextPageToken;
        pages++;
      } while (token !== '');
      expect(pages).toBe(3);
      expect(seen).toEqual([...made].reverse().map((p) => p.packageId));
    });
    it('rejects a page token from another query, a garbage token and a negative page size', async () => {
      const first = await list({ pageSize: 1 });
      const cases: [Partial<registry.ListPackagesRequest>, string, string][] = [
        [{ pageSize: 1, pageToken: first.nextPageToken, name: 'listed-0' }, 'PAGE_TOKEN_QUERY_MISMATCH', 'page_token'],
        [{ pageToken: 'garbage!' }, 'INVALID_PAGE_TOKEN', 'page_token'],
        [{ pageSize: -1 }, 'INVALID_PAGE_SIZE', 'page_size'],
      ];
      for (const [req, reason, field] of cases) {
        const err = await failure(list(req));
        expect({ code: err.code, reason: decodeStatusDetails(err.metadata).reason, field: decodeStatusDetails(err.metadata).violations[0]?.field }).toEqual({
          code: Status.INVALID_ARGUMENT,
          reason,
          field,
        });
      }
    });
  });

  describe('ResolveDependencies', () => {
    const resolver = newIdentity();
    it('resolves each dependency to the highest matching version, dependencies first', async () => {
      await publish(t, resolver, { name: 'dep-base', version: '1.0.0' });
      const base12 = await publish(t, resolver, { name: 'dep-base', version: '1.2.0' });
      await publish(t, resolver, { name: 'dep-base', version: '2.0.0' });
      const util = await publish(t, resolver, { name: 'dep-util', version: '0.3.1', dependencies: { 'dep-base': '^1.0.0' } });
      const app = await publish(t, resolver, { name: 'dep-app', version: '1.0.0', dependencies: { 'dep-util': '~0.3.0', 'dep-base': '>=1.1.0 <2' } });
      const res = await call(t.client, C.resolveDependencies, { packageId: app.packageId });
      expect(res.packages.map((p) => p.packageId)).toEqual([base12.packageId, util.packageId, app.packageId]);
    });
    it('names the missing dependency and who requires it', async () => {
      const app = await publish(t, resolver, { name: 'needs-ghost', version: '1.0.0', dependencies: { ghost: '^1.0.0' } });
      const err = await failure(call(t.client, C.resolveDependencies, { packageId: app.packageId }));
      expect(err.code).toBe(Status.FAILED_PRECONDITION);
      expect(decodeStatusDetails(err.metadata).reason).toBe('DEPENDENCY_NOT_FOUND');
      expect(err.details).toContain('ghost@^1.0.0 required by needs-ghost@1.0.0');
    });
    it('names the cycle', async () => {
      await publish(t, resolver, { name: 'cyc-a', version: '1.0.0', dependencies: { 'cyc-b': '^1.0.0' } });
      const b = await publish(t, resolver, { name: 'cyc-b', version: '1.0.0', dependencies: { 'cyc-a': '^1.0.0' } });
      const err = await failure(call(t.client, C.resolveDependencies, { packageId: b.packageId }));
      expect(err.code).toBe(Status.FAILED_PRECONDITION);
      expect(decodeStatusDetails(err.metadata).reason).toBe('DEPENDENCY_CYCLE');
      expect(err.details).toContain('cyc-b@1.0.0 → cyc-a@1.0.0 → cyc-b@1.0.0');
    });
  });
});
