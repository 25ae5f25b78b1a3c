/**
 * Package owners through the generated client, on PostgreSQL and PGlite: the
 * first registration of a name makes its author the owner, later versions
 * need an owner (also when two first registrations race), a name@version is
 * registered once, owners add and remove owners (never the last) with audit
 * entries, and every token rule of AddPackageOwner and RemovePackageOwner.
 */
import { Metadata, type ServiceError } from '@grpc/grpc-js';
import { signDocument } from '@griot/did';
import { registry } from '@griot/proto';
import { decodeStatusDetails } from '@griot/client';
import { DB_KINDS } from '@griot/test/support/database';
import { call, failure, newIdentity, nodeMetadata, signedPackage, startTestRegistry, Status, type Identity, type SignedPackage, type TestRegistry } from './support/harness';

const C: registry.RegistryServiceClient = registry.RegistryServiceClient.prototype;
const A = registry.PackageAuditAction;

/** A token of `who` for the registry. */
const auth = (who: Identity) => nodeMetadata(who);

describe.each(DB_KINDS)('package owners on %s', (kind) => {
  let t: TestRegistry;
  beforeAll(async () => {
    t = await startTestRegistry(kind);
  });
  afterAll(() => t.stop());

  /** Makes a signed package the stub store holds. */
  function stored(author: Identity, name: string, version: string): SignedPackage {
    const pkg = signedPackage(author, { name, version });
    t.store.blobs.set(pkg.packageId, pkg.size);
    return pkg;
  }
  const register = (pkg: SignedPackage) => call(t.client, C.registerPackage, { packageId: pkg.packageId, manifest: pkg.manifest, artifactUrl: '' });
  const publish = async (author: Identity, name: string, version: string) => {
    const pkg = stored(author, name, version);
    await register(pkg);
    return pkg;
  };
  const listOwners = (name: string, pageSize = 0, pageToken = '') => call(t.client, C.listPackageOwners, { name, pageSize, pageToken });
  const addOwner = (name: string, ownerDid: string, metadata: Metadata) => call(t.client, C.addPackageOwner, { name, ownerDid }, metadata);
  const removeOwner = (name: string, ownerDid: string, metadata: Metadata) => call(t.client, C.removePackageOwner, { name, ownerDid }, metadata);
  const reasonOf = (err: { metadata: Metadata }) => decodeStatusDetails(err.metadata).reason;
  const isRegistered = (packageId: string) =>
    call(t.client, C.getPackage, { packageId }).then(
      () => true,
      (err: ServiceError) => {
        if (err.code === Status.NOT_FOUND) return false;
        throw err;
      },
    );

  it('makes the first author of a name its sole owner, with an OWNER_ADDED audit entry', async () => {
    const author = newIdentity();
    await publish(author, 'owned', '1.0.0');
    const res = await listOwners('owned');
    expect(res.owners.map((o) => ({ did: o.did, addedBy: o.addedBy }))).toEqual([{ did: author.did, addedBy: author.did }]);
    expect(res.owners[0]!.addTime).toBeInstanceOf(Date);
    expect(res.audit.map((e) => ({ action: e.action, actorDid: e.actorDid, ownerDid: e.ownerDid }))).toEqual([
      { action: A.PACKAGE_AUDIT_ACTION_OWNER_ADDED, actorDid: author.did, ownerDid: author.did },
    ]);
    expect(res.nextPageToken).toBe('');
  });

  it('refuses a later version signed by someone who is not an owner, naming the owners, and writes nothing', async () => {
    const author = newIdentity();
    const intruder = newIdentity();
    await publish(author, 'guarded', '1.0.0');
    for (const version of ['1.0.1', '2.0.0']) {
      const pkg = stored(intruder, 'guarded', version);
      const err = await failure(register(pkg));
      expect({ code: err.code, reason: reasonOf(err) }).toEqual({ code: Status.PERMISSION_DENIED, reason: 'NOT_A_PACKAGE_OWNER' });
      expect(decodeStatusDetails(err.metadata).metadata).toMatchObject({ owners: author.did, name: 'guarded', caller: intruder.did });
      expect(err.details).toContain(author.did);
      expect(await isRegistered(pkg.packageId)).toBe(false);
    }
    // The check comes before the content store is asked.
    const unstored = signedPackage(intruder, { name: 'guarded', version: '3.0.0' });
    expect(reasonOf(await failure(register(unstored)))).toBe('NOT_A_PACKAGE_OWNER');
    expect((await listOwners('guarded')).owners.map((o) => o.did)).toEqual([author.did]);
  });

  it('lets exactly one of two racing first registrations of a new name win; the other is not an owner', async () => {
    for (let round = 0; round < 4; round++) {
      const [a, b] = [newIdentity(), newIdentity()];
      const name = `raced-${round}`;
      const pa = stored(a, name, '1.0.0');
      const pb = stored(b, name, round % 2 === 0 ? '1.0.0' : '1.1.0');
      const outcomes = await Promise.allSettled([register(pa), register(pb)]);
      const won = outcomes.filter((o) => o.status === 'fulfilled');
      const lost = outcomes.flatMap((o) => (o.status === 'rejected' ? [o.reason as ServiceError] : []));
      expect(won).toHaveLength(1);
      expect(lost.map((e) => ({ code: e.code, reason: reasonOf(e) }))).toEqual([{ code: Status.PERMISSION_DENIED, reason: 'NOT_A_PACKAGE_OWNER' }]);
      const winner = outcomes[0]!.status === 'fulfilled' ? a : b;
      const res = await listOwners(name);
      expect(res.owners.map((o) => o.did)).toEqual([winner.did]);
      expect(res.audit).toHaveLength(1);
      const listed = await call(t.client, C.listPackages, registry.ListPackagesRequest.fromPartial({ name }));
      expect(listed.packages.map((p) => p.authorDid)).toEqual([winner.did]);
    }
  });

  it('registers a name@version once: the same artifact is idempotent, another is VERSION_EXISTS naming the package', async () => {
    const author = newIdentity();
    const first = await publish(author, 'immutable', '1.0.0');
    const again = await register(first);
    expect(again.alreadyRegistered).toBe(true);
    const other = stored(author, 'immutable', '1.0.0');
    const err = await failure(register(other));
    expect({ code: err.code, reason: reasonOf(err) }).toEqual({ code: Status.ALREADY_EXISTS, reason: 'VERSION_EXISTS' });
    expect(decodeStatusDetails(err.metadata).metadata).toMatchObject({ packageId: first.packageId, name: 'immutable', version: '1.0.0' });
    expect(err.details).toContain(first.packageId);
    expect(await isRegistered(other.packageId)).toBe(false);
  });

  it('lets exactly one of two racing artifacts for one name@version win', async () => {
    const author = newIdentity();
    await publish(author, 'contested', '0.1.0');
    const [p1, p2] = [stored(author, 'contested', '1.0.0'), stored(author, 'contested', '1.0.0')];
    const outcomes = await Promise.allSettled([register(p1), register(p2)]);
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
    const lost = outcomes.find((o) => o.status === 'rejected') as PromiseRejectedResult;
    expect(reasonOf(lost.reason)).toBe('VERSION_EXISTS');
    const listed = await call(t.client, C.listPackages, registry.ListPackagesRequest.fromPartial({ name: 'contested', version: '1.0.0', includeYanked: true }));
    expect(listed.packages).toHaveLength(1);
  });

  it('answers a re-registration of an existing package whoever owns the name now', async () => {
    const [author, second] = [newIdentity(), newIdentity()];
    const pkg = await publish(author, 'handed-over', '1.0.0');
    await addOwner('handed-over', second.did, auth(author));
    await removeOwner('handed-over', author.did, auth(second));
    const { proof: _p, ...unsigned } = pkg.manifest;
    const resigned = signDocument(unsigned, { keyPair: author.keyPair, created: new Date(Date.now() + 1000) });
    expect((await register({ ...pkg, manifest: resigned })).alreadyRegistered).toBe(true);
    expect(reasonOf(await failure(publish(author, 'handed-over', '1.0.1')))).toBe('NOT_A_PACKAGE_OWNER');
  });

  describe('AddPackageOwner and RemovePackageOwner', () => {
    it('adds an owner who may then publish, remove owners and be removed; every change is audited', async () => {
      const [first, second] = [newIdentity(), newIdentity()];
      await publish(first, 'shared', '1.0.0');
      const added = await addOwner('shared', second.did, auth(first));
      expect(added.owners.map((o) => ({ did: o.did, addedBy: o.addedBy }))).toEqual([
        { did: first.did, addedBy: first.did },
        { did: second.did, addedBy: first.did },
      ]);
      // Adding an owner again changes nothing and writes no audit entry.
      expect((await addOwner('shared', second.did, auth(second))).owners).toHaveLength(2);
      await publish(second, 'shared', '1.1.0');
      const removed = await removeOwner('shared', first.did, auth(second));
      expect(removed.owners.map((o) => o.did)).toEqual([second.did]);
      expect(reasonOf(await failure(publish(first, 'shared', '1.2.0')))).toBe('NOT_A_PACKAGE_OWNER');
      const audit = (await listOwners('shared')).audit.map((e) => ({ action: e.action, actorDid: e.actorDid, ownerDid: e.ownerDid }));
      expect(audit).toEqual([
        { action: A.PACKAGE_AUDIT_ACTION_OWNER_REMOVED, actorDid: second.did, ownerDid: first.did },
        { action: A.PACKAGE_AUDIT_ACTION_OWNER_ADDED, actorDid: first.did, ownerDid: second.did },
        { action: A.PACKAGE_AUDIT_ACTION_OWNER_ADDED, actorDid: first.did, ownerDid: first.did },
      ]);
      expect((await listOwners('shared')).audit.every((e) => e.createTime instanceof Date)).toBe(true);
    });

    it('keeps the last owner', async () => {
      const only = newIdentity();
      await publish(only, 'lonely', '1.0.0');
      const err = await failure(removeOwner('lonely', only.did, auth(only)));
      expect({ code: err.code, reason: reasonOf(err) }).toEqual({ code: Status.FAILED_PRECONDITION, reason: 'LAST_OWNER' });
      expect(err.details).toContain('last owner');
      const res = await listOwners('lonely');
      expect(res.owners.map((o) => o.did)).toEqual([only.did]);
      expect(res.audit).toHaveLength(1);
    });

    it('answers NOT_FOUND for removing a did:key that is not an owner', async () => {
      const owner = newIdentity();
      await publish(owner, 'not-theirs', '1.0.0');
      const err = await failure(removeOwner('not-theirs', newIdentity().did, auth(owner)));
      expect({ code: err.code, reason: reasonOf(err) }).toEqual({ code: Status.NOT_FOUND, reason: 'PACKAGE_OWNER_NOT_FOUND' });
    });

    it('caps the owners of a name at 100', async () => {
      const owner = newIdentity();
      await publish(owner, 'crowded', '1.0.0');
      for (let i = 1; i < 100; i++) await addOwner('crowded', newIdentity().did, auth(owner));
      const err = await failure(addOwner('crowded', newIdentity().did, auth(owner)));
      expect({ code: err.code, reason: reasonOf(err) }).toEqual({ code: Status.RESOURCE_EXHAUSTED, reason: 'TOO_MANY_OWNERS' });
      expect((await listOwners('crowded')).owners).toHaveLength(100);
    });

    it('rejects a bad name or did:key with INVALID_ARGUMENT naming the field, before anything else', async () => {
      const owner = newIdentity();
      await publish(owner, 'checked', '1.0.0');
      const cases: [string, string, string, string][] = [
        ['', owner.did, 'INVALID_PACKAGE_NAME', 'name'],
        ['Not A Name', owner.did, 'INVALID_PACKAGE_NAME', 'name'],
        ['checked', '', 'MISSING_FIELD', 'owner_did'],
        ['checked', 'did:web:example.org', 'INVALID_DID', 'owner_did'],
        ['checked', 'did:key:zNotAKey', 'INVALID_DID', 'owner_did'],
      ];
      for (const method of [addOwner, removeOwner]) {
        for (const [name, did, reason, field] of cases) {
          const err = await failure(method(name, did, auth(owner)));
          expect({ code: err.code, reason: reasonOf(err), field: decodeStatusDetails(err.metadata).violations[0]?.field }).toEqual({ code: Status.INVALID_ARGUMENT, reason, field });
        }
      }
      expect((await listOwners('checked')).audit).toHaveLength(1);
    });

    it('answers PERMISSION_DENIED for a name nobody registered (permission before existence)', async () => {
      const caller = newIdentity();
      for (const method of [addOwner, removeOwner]) {
        const err = await failure(method('never-registered', caller.did, auth(caller)));
        expect({ code: err.code, reason: reasonOf(err) }).toEqual({ code: Status.PERMISSION_DENIED, reason: 'NOT_A_PACKAGE_OWNER' });
        expect(err.details).toContain('has no owners');
      }
      const listed = await failure(listOwners('never-registered'));
      expect({ code: listed.code, reason: reasonOf(listed) }).toEqual({ code: Status.NOT_FOUND, reason: 'PACKAGE_NAME_NOT_FOUND' });
    });

    describe('caller tokens', () => {
      const owner = newIdentity();
      const stranger = newIdentity();
      const target = newIdentity();
      beforeAll(async () => {
        await publish(owner, 'tokened', '1.0.0');
        await addOwner('tokened', target.did, auth(owner));
      });
      const tokens: [string, () => Metadata | undefined, number, string][] = [
        ['no token', () => undefined, Status.UNAUTHENTICATED, 'MISSING_CREDENTIALS'],
        ['a token for another audience', () => nodeMetadata(owner, { audience: 'griot-content' }), Status.UNAUTHENTICATED, 'WRONG_AUDIENCE'],
        ['an expired token', () => nodeMetadata(owner, { ttlSeconds: 60, now: new Date(Date.now() - 10 * 60_000) }), Status.UNAUTHENTICATED, 'TOKEN_EXPIRED'],
        ["another DID's token", () => auth(stranger), Status.PERMISSION_DENIED, 'NOT_A_PACKAGE_OWNER'],
      ];
      it.each(tokens)('AddPackageOwner and RemovePackageOwner refuse %s and change nothing', async (_name, metadata, code, reason) => {
        const before = await listOwners('tokened');
        for (const [method, did] of [[addOwner, stranger.did], [removeOwner, target.did]] as const) {
          const err = await failure(method('tokened', did, metadata() ?? new Metadata()));
          expect({ code: err.code, reason: reasonOf(err) }).toEqual({ code, reason });
        }
        expect(await listOwners('tokened')).toEqual(before);
      });
    });
  });

  describe('ListPackageOwners', () => {
    const owner = newIdentity();
    const added: Identity[] = [newIdentity(), newIdentity(), newIdentity(), newIdentity()];
    beforeAll(async () => {
      await publish(owner, 'paged', '1.0.0');
      for (const who of added) await addOwner('paged', who.did, auth(owner));
    });

    it('answers every owner oldest first and pages the audit log newest first until an empty token', async () => {
      const seen: string[] = [];
      let token = '';
      let pages = 0;
      do {
        const res = await listOwners('paged', 2, token);
        expect(res.owners.map((o) => o.did)).toEqual([owner.did, ...added.map((a) => a.did)]);
        seen.push(...res.audit.map((e) => e.ownerDid));
        token = res.nextPageToken;
        pages++;
      } while (token !== '');
      expect(pages).toBe(3);
      expect(seen).toEqual([...added].reverse().map((a) => a.did).concat(owner.did));
    });

    it('rejects a token of another name, a garbage token, a negative page size and a bad name', async () => {
      const first = await listOwners('paged', 1);
      await publish(owner, 'paged-other', '1.0.0');
      const cases: [Partial<registry.ListPackageOwnersRequest>, string, string][] = [
        [{ name: 'paged-other', pageSize: 1, pageToken: first.nextPageToken }, 'PAGE_TOKEN_QUERY_MISMATCH', 'page_token'],
        [{ name: 'paged', pageToken: 'garbage!' }, 'INVALID_PAGE_TOKEN', 'page_token'],
        [{ name: 'paged', pageSize: -1 }, 'INVALID_PAGE_SIZE', 'page_size'],
        [{ name: '' }, 'INVALID_PACKAGE_NAME', 'name'],
      ];
      for (const [req, reason, field] of cases) {
        const err = await failure(call(t.client, C.listPackageOwners, registry.ListPackageOwnersRequest.fromPartial(req)));
        expect({ code: err.code, reason: reasonOf(err), field: decodeStatusDetails(err.metadata).violations[0]?.field }).toEqual({
          code: Status.INVALID_ARGUMENT,
          reason,
          field,
        });
      }
    });
  });
});
