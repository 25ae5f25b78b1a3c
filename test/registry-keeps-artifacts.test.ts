/**
 * The registry keeps what it registers, with a real content store and a
 * real registry in-process, on PostgreSQL and PGlite: an author uploads an
 * artifact and registers it without making any content-store manifest; the
 * registry makes its own (created by its did:key, from `registry-key.json`
 * under its GRIOT_DATA_DIR), so the bytes survive a sweep past
 * CONTENT_UPLOAD_TTL (one second) while a blob nobody keeps is swept; the
 * uploader cannot delete the registry's manifest; a content operator can,
 * and registering the package again restores it.
 */
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { status } from '@grpc/grpc-js';
import { content, registry } from '@griot/proto';
import { readRegistryConfig, startRegistry, type RunningRegistry } from '@griot/registry';
import { silentLogger } from '@griot/server-kit';
import { bytesOf, expectFailure, readAll, startTestContentStore, type TestContentStore } from '@griot/test/support/content-store';
import { createPostgresDatabase, DB_KINDS } from '@griot/test/support/database';
import { callerAuth, connect, CONTENT_AUDIENCE, newIdentity, publishTestPackage, unary, uploadBytes } from '@griot/test/support/fixtures';

describe.each(DB_KINDS)('the registry keeps the artifacts it registers, on %s', (kind) => {
  const operator = newIdentity();
  const author = newIdentity();
  let store: TestContentStore;
  let registryService: RunningRegistry;
  let registryDataDir: string;
  let dropRegistryDb: (() => Promise<void>) | undefined;
  let clients: ReturnType<typeof connect>;

  beforeAll(async () => {
    store = await startTestContentStore(kind, { CONTENT_UPLOAD_TTL: '1s', CONTENT_OPERATORS: operator.did });
    registryDataDir = mkdtempSync(join(tmpdir(), 'griot-registry-'));
    const pg = kind === 'postgres' ? await createPostgresDatabase() : undefined;
    dropRegistryDb = pg?.drop;
    registryService = await startRegistry(
      readRegistryConfig({ REGISTRY_LISTEN: '127.0.0.1:0', REGISTRY_DATABASE_URL: pg?.url, GRIOT_DATA_DIR: registryDataDir, GRIOT_EMBEDDED_DATABASE: 'pglite', CONTENT_STORE_ADDR: store.service.address, LOG_LEVEL: 'silent' }),
      silentLogger(),
    );
    clients = connect({ content: store.service.address, registry: registryService.address });
  });
  afterAll(async () => {
    clients.close();
    await registryService.stop(1000);
    await store.close();
    await dropRegistryDb?.();
    rmSync(registryDataDir, { recursive: true, force: true });
  });

  const registryManifests = async (packageId: string) =>
    (
      await unary<content.ListManifestsRequest, content.ListManifestsResponse>(
        clients.content.listManifests.bind(clients.content),
        content.ListManifestsRequest.fromPartial({ tags: { kind: 'griot.registry.artifact', packageId } }),
      )
    ).manifests;
  const blobHeld = async (sha256: string) =>
    unary<content.GetBlobRequest, content.GetBlobResponse>(clients.content.getBlob.bind(clients.content), { sha256, storageName: '' }).then(
      () => true,
      (err: { code: number }) => (err.code === status.NOT_FOUND ? false : Promise.reject(err)),
    );
  const deleteAs = (who: ReturnType<typeof newIdentity>, id: string) =>
    unary<content.DeleteManifestRequest, content.DeleteManifestResponse>(clients.content.deleteManifest.bind(clients.content), { id }, callerAuth(who, CONTENT_AUDIENCE));

  it("makes the registry's own manifest, which survives a sweep past the upload TTL; the uploader cannot delete it", async () => {
    const keyFile = join(registryDataDir, 'registry-key.json');
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    const registryDid = (JSON.parse(readFileSync(keyFile, 'utf8')) as { did: string }).did;
    const artifact = bytesOf(5000, 41);
    const pkg = await publishTestPackage(clients, author, { name: 'kept', version: '1.0.0', artifact });
    // A blob the same author uploads but nobody registers: the sweep must take it (so the sweep did run).
    const loose = await uploadBytes(clients.content, bytesOf(3000, 42), author);

    const [kept, ...more] = await registryManifests(pkg.packageId);
    expect(more).toEqual([]);
    expect(kept).toMatchObject({ creatorDid: registryDid, tags: { kind: 'griot.registry.artifact', packageId: pkg.packageId } });
    expect(kept!.contents.map((c) => c.contentHash)).toEqual([pkg.packageId]);

    store.advance(2000);
    await store.service.sweep();
    expect(await blobHeld(loose)).toBe(false);
    const read = await readAll(clients.content, { target: { $case: 'blob', blob: { sha256: pkg.packageId, storageName: '' } } });
    expect({ error: read.error?.message, bytes: read.data.equals(artifact) }).toEqual({ error: undefined, bytes: true });

    const refused = await expectFailure(deleteAs(author, kept!.id));
    expect({ code: refused.code, reason: refused.reason, creator: refused.metadata['creator'] }).toEqual({ code: status.PERMISSION_DENIED, reason: 'NOT_MANIFEST_CREATOR', creator: registryDid });

    // Registering the same package again answers it and keeps the one manifest.
    const again = await unary<registry.RegisterPackageRequest, registry.RegisterPackageResponse>(clients.registry.registerPackage.bind(clients.registry), {
      packageId: pkg.packageId,
      manifest: pkg.manifest,
      artifactUrl: '',
    });
    expect(again.alreadyRegistered).toBe(true);
    expect((await registryManifests(pkg.packageId)).map((m) => m.id)).toEqual([kept!.id]);
  });

  it('a content operator may delete it; registering again checks the artifact and restores the manifest', async () => {
    const artifact = bytesOf(4000, 43);
    const pkg = await publishTestPackage(clients, author, { name: 'restored', version: '1.0.0', artifact });
    const [kept] = await registryManifests(pkg.packageId);
    const deleted = await deleteAs(operator, kept!.id);
    expect(deleted.deletedSha256).toEqual([pkg.packageId]);
    expect(await registryManifests(pkg.packageId)).toEqual([]);

    const register = () =>
      unary<registry.RegisterPackageRequest, registry.RegisterPackageResponse>(clients.registry.registerPackage.bind(clients.registry), {
        packageId: pkg.packageId,
        manifest: pkg.manifest,
        artifactUrl: '',
      });
    // The bytes went with the manifest: registering again says so.
    const missing = await expectFailure(register());
    expect({ code: missing.code, reason: missing.reason }).toEqual({ code: status.FAILED_PRECONDITION, reason: 'ARTIFACT_NOT_FOUND' });

    await uploadBytes(clients.content, artifact, author);
    expect((await register()).alreadyRegistered).toBe(true);
    const [restored, ...more] = await registryManifests(pkg.packageId);
    expect({ id: restored?.id, more }).toEqual({ id: kept!.id, more: [] });
    store.advance(2000);
    await store.service.sweep();
    expect(await blobHeld(pkg.packageId)).toBe(true);
  });
});
