/**
 * The registry keeps what it registers, against a stub content store: every
 * call to the store carries the registry's own caller token; registering a
 * content-store artifact makes the registry's manifest (one id per package,
 * the same every time), registering again answers it or restores it, and
 * artifacts elsewhere are not the store's to keep.
 */
import { registry } from '@griot/proto';
import { decodeStatusDetails } from '@griot/client';
import { DB_KINDS } from '@griot/test/support/database';
import { call, failure, newIdentity, signedPackage, startTestRegistry, Status, type TestRegistry } from './support/harness';

const C: registry.RegistryServiceClient = registry.RegistryServiceClient.prototype;

describe.each(DB_KINDS)('the registry keeps artifacts on %s', (kind) => {
  let t: TestRegistry;
  beforeAll(async () => {
    t = await startTestRegistry(kind);
  });
  afterAll(() => t.stop());

  it('creates its manifest with its own token, answers it again, and restores it once deleted', async () => {
    const author = newIdentity();
    const pkg = signedPackage(author, { name: 'kept-stub', version: '1.0.0' });
    t.store.blobs.set(pkg.packageId, pkg.size);
    const register = () => call(t.client, C.registerPackage, { packageId: pkg.packageId, manifest: pkg.manifest, artifactUrl: '' });

    expect((await register()).alreadyRegistered).toBe(false);
    const mine = () => t.store.manifestCalls.filter((c) => c.sha256 === pkg.packageId);
    const [first] = mine();
    expect(first).toMatchObject({ tags: { kind: 'griot.registry.artifact', packageId: pkg.packageId }, alreadyExisted: false });
    expect(first!.callerDid).toMatch(/^did:key:z6Mk/);
    expect(first!.callerDid).not.toBe(author.did);
    // The artifact check carried the same identity.
    expect(t.store.calls.filter((c) => c.sha256 === pkg.packageId).map((c) => c.callerDid)).toEqual([first!.callerDid]);

    expect((await register()).alreadyRegistered).toBe(true);
    expect(mine().map((c) => ({ id: c.manifestId, already: c.alreadyExisted }))).toEqual([
      { id: first!.manifestId, already: false },
      { id: first!.manifestId, already: true },
    ]);

    t.store.manifests.delete(first!.manifestId);
    expect((await register()).alreadyRegistered).toBe(true);
    expect(t.store.manifests.get(first!.manifestId)).toBe(pkg.packageId);
    expect(mine()[2]).toMatchObject({ manifestId: first!.manifestId, alreadyExisted: false });

    // Gone from the store: registering again says so.
    t.store.manifests.delete(first!.manifestId);
    t.store.blobs.delete(pkg.packageId);
    const missing = await failure(register());
    expect({ code: missing.code, reason: decodeStatusDetails(missing.metadata).reason }).toEqual({ code: Status.FAILED_PRECONDITION, reason: 'ARTIFACT_NOT_FOUND' });
  });

  it('keeps nothing for an artifact outside the content store', async () => {
    const pkg = signedPackage(newIdentity(), { name: 'elsewhere', version: '1.0.0' });
    const before = t.store.manifestCalls.length;
    await call(t.client, C.registerPackage, { packageId: pkg.packageId, manifest: pkg.manifest, artifactUrl: `https://example.org/${pkg.packageId}.tgz` });
    expect(t.store.manifestCalls.length).toBe(before);
  });
});
