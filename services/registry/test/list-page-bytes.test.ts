/**
 * ListPackages pages bounded in bytes (REGISTRY_MAX_LIST_PAGE_BYTES), on
 * PostgreSQL and PGlite: with large manifests a page ends early with a next
 * token, and paging still lists every package once, newest first.
 */
import { registry } from '@griot/proto';
import { DB_KINDS } from '@griot/test/support/database';
import { call, newIdentity, signedPackage, startTestRegistry, type SignedPackage, type TestRegistry } from './support/harness';

const C: registry.RegistryServiceClient = registry.RegistryServiceClient.prototype;

describe.each(DB_KINDS)('ListPackages page bytes on %s', (kind) => {
  let t: TestRegistry;
  beforeAll(async () => {
    t = await startTestRegistry(kind, { env: { REGISTRY_MAX_LIST_PAGE_BYTES: '8KiB' } });
  });
  afterAll(() => t.stop());

  it('ends a page early at REGISTRY_MAX_LIST_PAGE_BYTES, with a next token, and pages through all', async () => {
    const author = newIdentity();
    const made: SignedPackage[] = [];
    for (let i = 0; i < 10; i++) {
      // About 3 KB each: 2 fit in 8 KiB, not 10.
      const pkg = signedPackage(author, { name: `big-${i}`, version: '1.0.0', extra: { description: 'd'.repeat(2500) } });
      t.store.blobs.set(pkg.packageId, pkg.size);
      await call(t.client, C.registerPackage, { packageId: pkg.packageId, manifest: pkg.manifest, artifactUrl: '' });
      made.push(pkg);
    }
    const list = (pageToken: string) => call(t.client, C.listPackages, registry.ListPackagesRequest.fromPartial({ authorDid: author.did, pageSize: 100, pageToken }));
    const first = await list('');
    expect(first.packages.length).toBeGreaterThan(0);
    expect(first.packages.length).toBeLessThan(4);
    expect(first.nextPageToken).not.toBe('');
    const seen = first.packages.map((p) => p.packageId);
    for (let token = first.nextPageToken; token !== ''; ) {
      const page = await list(token);
      expect(page.packages.length).toBeLessThan(4);
      seen.push(...page.packages.map((p) => p.packageId));
      token = page.nextPageToken;
    }
    expect(seen).toEqual([...made].reverse().map((p) => p.packageId));
  });
});
