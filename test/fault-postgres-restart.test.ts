/**
 * PostgreSQL restarted under load: while it is down, calls to both services
 * (uploads included, which also take a lock on a connection of their own)
 * fail with UNAVAILABLE (never INTERNAL, never a hang); once it is back, they
 * succeed again without restarting the services.
 */
import { randomUUID } from 'node:crypto';
import { credentials, Metadata, type ServiceError } from '@grpc/grpc-js';
import { content, registry } from '@griot/proto';
import { startPrivatePostgres, type PrivatePostgres } from '@griot/test/support/private-postgres';
import { startServiceProcess, type ServiceProcess } from '@griot/test/support/process';
import { callerAuth, CONTENT_AUDIENCE, newIdentity } from '@griot/test/support/fixtures';
import { describeIf, privatePostgres } from '@griot/test/support/tools';

const OK = 0;
const UNAVAILABLE = 14;

describeIf([privatePostgres()])('PostgreSQL restarted under load', () => {
  let pg: PrivatePostgres;
  let registryProcess: ServiceProcess;
  let contentProcess: ServiceProcess;

  beforeAll(async () => {
    pg = await startPrivatePostgres();
    await pg.createDatabase('griot_registry');
    await pg.createDatabase('griot_content');
    contentProcess = await startServiceProcess('content-store', { CONTENT_DATABASE_URL: pg.urlFor('griot_content') });
    registryProcess = await startServiceProcess('registry', {
      REGISTRY_DATABASE_URL: pg.urlFor('griot_registry'),
      CONTENT_STORE_ADDR: contentProcess.address,
    });
  }, 120_000);

  afterAll(async () => {
    await registryProcess?.stop();
    await contentProcess?.stop();
    await pg?.destroy();
  });

  it('answers UNAVAILABLE while the database is down and recovers by itself', async () => {
    const registryClient = new registry.RegistryServiceClient(registryProcess.address, credentials.createInsecure());
    const contentClient = new content.ContentServiceClient(contentProcess.address, credentials.createInsecure());
    const deadline = () => ({ deadline: Date.now() + 5000 });
    const callRegistry = () =>
      new Promise<number>((resolve) =>
        registryClient.listPackages(registry.ListPackagesRequest.fromPartial({ pageSize: 5 }), new Metadata(), deadline(), (err: ServiceError | null) => resolve(err ? err.code : OK)),
      );
    const callContent = () =>
      new Promise<number>((resolve) =>
        contentClient.listManifests(content.ListManifestsRequest.fromPartial({ pageSize: 5 }), new Metadata(), deadline(), (err: ServiceError | null) => resolve(err ? err.code : OK)),
      );
    // A resumable upload (it takes the upload's lock, on a connection of its own).
    const callUpload = () =>
      new Promise<number>((resolve) => {
        const call = contentClient.uploadBlob(callerAuth(uploader, CONTENT_AUDIENCE), deadline(), (err: ServiceError | null) => resolve(err ? err.code : OK));
        call.write(content.UploadBlobRequest.fromPartial({ start: { uploadId: randomUUID() }, offset: 0, data: Buffer.from('griot'), finishWrite: true }));
        call.end();
      });
    const uploader = newIdentity();
    const seen = new Set<number>();
    /** Calls both services until every call answers `code`, or fails after `ms`. */
    const until = async (code: number, ms: number) => {
      const end = Date.now() + ms;
      for (;;) {
        const codes = await Promise.all([callRegistry(), callContent(), callUpload()]);
        codes.forEach((c) => seen.add(c));
        if (codes.every((c) => c === code)) return;
        if (Date.now() > end) throw new Error(`still answering ${codes.join(', ')} instead of ${code}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    };

    await until(OK, 10_000);
    await pg.stop();
    await until(UNAVAILABLE, 20_000);
    await pg.start();
    await until(OK, 30_000);
    // Only OK and UNAVAILABLE were ever answered: no INTERNAL, no DEADLINE_EXCEEDED.
    expect([...seen].sort()).toEqual([OK, UNAVAILABLE]);
    expect(registryProcess.child.exitCode).toBeNull();
    expect(contentProcess.child.exitCode).toBeNull();
    registryClient.close();
    contentClient.close();
  }, 120_000);
});
