/**
 * YankPackage and UnyankPackage through the generated client, on PostgreSQL
 * and PGlite: owners only, audited; range resolution (ResolveDependencies and
 * CreateInstallation) skips yanked versions while an exact package id still
 * resolves; GetPackage and ListPackages show the yank; every token rule; and
 * a replica's GetPackage cache sees another replica's yank and unyank at once.
 */
import { Metadata, type ServiceError } from '@grpc/grpc-js';
import { registry } from '@griot/proto';
import { decodeStatusDetails } from '@griot/client';
import { createPostgresDatabase, DB_KINDS } from '@griot/test/support/database';
import { describeIf, postgresKind } from '@griot/test/support/tools';
import {
  call,
  failure,
  newIdentity,
  nodeMetadata,
  signedPackage,
  startTestRegistry,
  Status,
  stubContentStore,
  type Identity,
  type SignedPackage,
  type TestRegistry,
} from './support/harness';

const C: registry.RegistryServiceClient = registry.RegistryServiceClient.prototype;
const A = registry.PackageAuditAction;
const reasonOf = (err: ServiceError) => decodeStatusDetails(err.metadata).reason;

async function publish(t: TestRegistry, author: Identity, name: string, version: string, dependencies: Record<string, string> = {}): Promise<SignedPackage> {
  const pkg = signedPackage(author, { name, version, dependencies });
  t.store.blobs.set(pkg.packageId, pkg.size);
  await call(t.client, C.registerPackage, { packageId: pkg.packageId, manifest: pkg.manifest, artifactUrl: '' });
  return pkg;
}

const yank = (t: TestRegistry, packageId: string, reason: string, metadata: Metadata) => call(t.client, C.yankPackage, { packageId, reason }, metadata);
const unyank = (t: TestRegistry, packageId: string, metadata: Metadata) => call(t.client, C.unyankPackage, { packageId }, metadata);
const getPackage = (t: TestRegistry, packageId: string) => call(t.client, C.getPackage, { packageId }).then((r) => r.package!);
const resolveIds = (t: TestRegistry, packageId: string) => call(t.client, C.resolveDependencies, { packageId }).then((r) => r.packages.map((p) => p.packageId));

describe.each(DB_KINDS)('yanked versions on %s', (kind) => {
  let t: TestRegistry;
  const owner = newIdentity();
  let lib100: SignedPackage;
  let lib110: SignedPackage;
  let app: SignedPackage;
  beforeAll(async () => {
    t = await startTestRegistry(kind);
    lib100 = await publish(t, owner, 'ylib', '1.0.0');
    lib110 = await publish(t, owner, 'ylib', '1.1.0');
    app = await publish(t, owner, 'yapp', '1.0.0', { ylib: '^1.0.0' });
  });
  afterAll(() => t.stop());

  it('yanks a version: shown by GetPackage, audited, skipped by range resolution, still resolvable by id; unyank restores it', async () => {
    expect(await resolveIds(t, app.packageId)).toEqual([lib110.packageId, app.packageId]);
    // Cached before the yank: this replica's cache must not answer the old state.
    expect((await getPackage(t, lib110.packageId)).yanked).toBe(false);

    const yanked = await yank(t, lib110.packageId, 'broken on arm64', nodeMetadata(owner));
    expect(yanked.package).toMatchObject({ packageId: lib110.packageId, yanked: true, yankReason: 'broken on arm64' });
    expect(await getPackage(t, lib110.packageId)).toMatchObject({ yanked: true, yankReason: 'broken on arm64' });
    expect(await resolveIds(t, app.packageId)).toEqual([lib100.packageId, app.packageId]);
    expect(await resolveIds(t, lib110.packageId)).toEqual([lib110.packageId]);

    // CreateInstallation resolves the same way, and installs a yanked package given by id.
    const node = newIdentity();
    const job = await call(t.client, C.createInstallation, { packageId: app.packageId, targetNodeId: node.did }, nodeMetadata(node));
    expect(job.installation!.installOrder).toEqual([lib100.packageId, app.packageId]);
    const exact = await call(t.client, C.createInstallation, { packageId: lib110.packageId, targetNodeId: node.did }, nodeMetadata(node));
    expect(exact.installation!.installOrder).toEqual([lib110.packageId]);

    const audit = (await call(t.client, C.listPackageOwners, { name: 'ylib', pageSize: 0, pageToken: '' })).audit;
    expect(audit[0]).toMatchObject({ action: A.PACKAGE_AUDIT_ACTION_VERSION_YANKED, actorDid: owner.did, packageId: lib110.packageId, reason: 'broken on arm64' });

    const unyanked = await unyank(t, lib110.packageId, nodeMetadata(owner));
    expect(unyanked.package).toMatchObject({ yanked: false, yankReason: '' });
    expect(await getPackage(t, lib110.packageId)).toMatchObject({ yanked: false, yankReason: '' });
    expect(await resolveIds(t, app.packageId)).toEqual([lib110.packageId, app.packageId]);
    const after = (await call(t.client, C.listPackageOwners, { name: 'ylib', pageSize: 0, pageToken: '' })).audit;
    expect(after[0]).toMatchObject({ action: A.PACKAGE_AUDIT_ACTION_VERSION_UNYANKED, actorDid: owner.did, packageId: lib110.packageId });
    expect(after).toHaveLength(audit.length + 1);
  });

  it('yanks and unyanks idempotently: a repeat writes no audit entry, a new reason replaces the old one', async () => {
    const pkg = await publish(t, owner, 'yrepeat', '1.0.0');
    const auditLength = async () => (await call(t.client, C.listPackageOwners, { name: 'yrepeat', pageSize: 0, pageToken: '' })).audit.length;
    await yank(t, pkg.packageId, 'first', nodeMetadata(owner));
    await yank(t, pkg.packageId, 'first', nodeMetadata(owner));
    expect(await auditLength()).toBe(2);
    expect((await yank(t, pkg.packageId, 'second', nodeMetadata(owner))).package!.yankReason).toBe('second');
    expect(await auditLength()).toBe(3);
    await unyank(t, pkg.packageId, nodeMetadata(owner));
    await unyank(t, pkg.packageId, nodeMetadata(owner));
    expect(await auditLength()).toBe(4);
  });

  it('names the yanked versions when a range finds nothing else', async () => {
    const only = await publish(t, owner, 'yonly', '1.0.0');
    const needs = await publish(t, owner, 'yneeds', '1.0.0', { yonly: '^1.0.0' });
    await yank(t, only.packageId, 'withdrawn', nodeMetadata(owner));
    const err = await failure(call(t.client, C.resolveDependencies, { packageId: needs.packageId }));
    expect({ code: err.code, reason: reasonOf(err) }).toEqual({ code: Status.FAILED_PRECONDITION, reason: 'DEPENDENCY_NOT_FOUND' });
    expect(err.details).toContain('1.0.0 (yanked)');
  });

  it('keeps a yanked name@version registered: another artifact for it is still VERSION_EXISTS', async () => {
    const pkg = await publish(t, owner, 'ygone', '1.0.0');
    await yank(t, pkg.packageId, 'bad build', nodeMetadata(owner));
    const err = await failure(publish(t, owner, 'ygone', '1.0.0'));
    expect({ code: err.code, reason: reasonOf(err) }).toEqual({ code: Status.ALREADY_EXISTS, reason: 'VERSION_EXISTS' });
    expect(decodeStatusDetails(err.metadata).metadata['packageId']).toBe(pkg.packageId);
  });

  it('lists yanked packages only when asked', async () => {
    const lister = newIdentity();
    const kept = await publish(t, lister, 'ylisted', '1.0.0');
    const gone = await publish(t, lister, 'ylisted', '1.1.0');
    await yank(t, gone.packageId, 'oops', nodeMetadata(lister));
    const list = (includeYanked: boolean) =>
      call(t.client, C.listPackages, registry.ListPackagesRequest.fromPartial({ authorDid: lister.did, includeYanked })).then((r) => r.packages);
    expect((await list(false)).map((p) => p.packageId)).toEqual([kept.packageId]);
    const all = await list(true);
    expect(all.map((p) => [p.packageId, p.yanked, p.yankReason])).toEqual([
      [gone.packageId, true, 'oops'],
      [kept.packageId, false, ''],
    ]);
    // A page token is bound to include_yanked.
    const first = await call(t.client, C.listPackages, registry.ListPackagesRequest.fromPartial({ authorDid: lister.did, includeYanked: true, pageSize: 1 }));
    const err = await failure(call(t.client, C.listPackages, registry.ListPackagesRequest.fromPartial({ authorDid: lister.did, pageSize: 1, pageToken: first.nextPageToken })));
    expect(reasonOf(err)).toBe('PAGE_TOKEN_QUERY_MISMATCH');
  });

  describe('refusals', () => {
    const stranger = newIdentity();
    let target: SignedPackage;
    let yankedTarget: SignedPackage;
    beforeAll(async () => {
      target = await publish(t, owner, 'yguarded', '1.0.0');
      yankedTarget = await publish(t, owner, 'yguarded', '1.1.0');
      await yank(t, yankedTarget.packageId, 'kept yanked', nodeMetadata(owner));
    });
    const unchanged = async () => {
      expect(await getPackage(t, target.packageId)).toMatchObject({ yanked: false });
      expect(await getPackage(t, yankedTarget.packageId)).toMatchObject({ yanked: true, yankReason: 'kept yanked' });
      expect((await call(t.client, C.listPackageOwners, { name: 'yguarded', pageSize: 0, pageToken: '' })).audit).toHaveLength(2);
    };

    const tokens: [string, () => Metadata, number, string][] = [
      ['no token', () => new Metadata(), Status.UNAUTHENTICATED, 'MISSING_CREDENTIALS'],
      ['a token for another audience', () => nodeMetadata(owner, { audience: 'griot-content' }), Status.UNAUTHENTICATED, 'WRONG_AUDIENCE'],
      ['an expired token', () => nodeMetadata(owner, { ttlSeconds: 60, now: new Date(Date.now() - 10 * 60_000) }), Status.UNAUTHENTICATED, 'TOKEN_EXPIRED'],
      ["another DID's token", () => nodeMetadata(stranger), Status.PERMISSION_DENIED, 'NOT_A_PACKAGE_OWNER'],
    ];
    it.each(tokens)('YankPackage and UnyankPackage refuse %s and change nothing', async (_name, metadata, code, reason) => {
      const errs = [await failure(yank(t, target.packageId, 'no', metadata())), await failure(unyank(t, yankedTarget.packageId, metadata()))];
      for (const err of errs) expect({ code: err.code, reason: reasonOf(err) }).toEqual({ code, reason });
      await unchanged();
    });

    const bad: [string, () => { packageId: string; reason: string }, number, string, string][] = [
      ['an empty package id', () => ({ packageId: '', reason: 'r' }), Status.INVALID_ARGUMENT, 'MISSING_FIELD', 'package_id'],
      ['a malformed package id', () => ({ packageId: 'XYZ', reason: 'r' }), Status.INVALID_ARGUMENT, 'INVALID_SHA256', 'package_id'],
      ['a reason over 1024 characters', () => ({ packageId: target.packageId, reason: 'x'.repeat(1025) }), Status.INVALID_ARGUMENT, 'TOO_LONG', 'reason'],
      ['a reason with NUL', () => ({ packageId: target.packageId, reason: 'a\u0000b' }), Status.INVALID_ARGUMENT, 'INVALID_CHARACTER', 'reason'],
      ['a package id nobody registered', () => ({ packageId: '0'.repeat(64), reason: 'r' }), Status.NOT_FOUND, 'PACKAGE_NOT_FOUND', ''],
    ];
    it.each(bad)('YankPackage rejects %s and changes nothing', async (_name, make, code, reason, field) => {
      const err = await failure(call(t.client, C.yankPackage, make(), nodeMetadata(owner)));
      expect({ code: err.code, reason: reasonOf(err) }).toEqual({ code, reason });
      if (field) expect(decodeStatusDetails(err.metadata).violations.map((v) => v.field)).toEqual([field]);
      await unchanged();
    });

    it('accepts a reason of exactly 1024 characters', async () => {
      const pkg = await publish(t, owner, 'ylong', '1.0.0');
      expect((await yank(t, pkg.packageId, 'y'.repeat(1024), nodeMetadata(owner))).package!.yankReason).toHaveLength(1024);
    });
  });
});

const postgresOnly = describeIf([postgresKind()]);
postgresOnly('a yank seen by another replica on postgres', () => {
  it("answers a yank and an unyank through one replica at once in another replica's GetPackage, which had the package cached", async () => {
    const db = await createPostgresDatabase();
    const store = await stubContentStore();
    const a = await startTestRegistry('postgres', { databaseUrl: db.url, store });
    const b = await startTestRegistry('postgres', { databaseUrl: db.url, store });
    try {
      const owner = newIdentity();
      const pkg = await publish(a, owner, 'yreplicated', '1.0.0');
      expect((await getPackage(b, pkg.packageId)).yanked).toBe(false);
      await yank(a, pkg.packageId, 'seen everywhere', nodeMetadata(owner));
      expect((await getPackage(b, pkg.packageId)).yankReason).toBe('seen everywhere');
      await unyank(a, pkg.packageId, nodeMetadata(owner));
      expect((await getPackage(b, pkg.packageId)).yanked).toBe(false);
    } finally {
      await a.stop();
      await b.stop();
      await store.stop();
      await db.drop();
    }
  });
});
