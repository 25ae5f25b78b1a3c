import { randomBytes, randomUUID } from 'node:crypto';
import { Storage } from '@google-cloud/storage';
import { startGcsTestServer, type GcsTestServer } from '@griot/test/gcs-server';
import { describeBlobStore, readAll, sha256Of } from '../support/describe-blob-store';
import { UploadOffsetUnalignedError } from '../../src/storage/errors';
import { GcsBlobStore } from '../../src/storage/gcs-store';

const BUCKET = 'griot-content';

describeBlobStore('GcsBlobStore', async () => {
  const server = await startGcsTestServer();
  const store = new GcsBlobStore({ bucket: BUCKET, prefix: 'blobs', apiEndpoint: server.url, projectId: 'test' });
  return {
    store,
    staged: async (uploadId) => server.objects(BUCKET).map((o) => o.name).filter((name) => name.startsWith(`blobs/uploads/${uploadId}/`)),
    cleanup: async () => {
      await store.close();
      await server.close();
    },
  };
});

describe('GcsBlobStore layout', () => {
  let server: GcsTestServer;
  let store: GcsBlobStore;
  const names = () => server.objects(BUCKET).map((o) => o.name);

  beforeAll(async () => {
    server = await startGcsTestServer();
    store = new GcsBlobStore({ bucket: BUCKET, prefix: 'griot/', apiEndpoint: server.url, projectId: 'test' });
  });

  afterAll(async () => {
    await server.close();
  });

  it('stages one part object per sync, named by zero-padded start offset, and composes them into sha256/<hex>', async () => {
    const uploadId = randomUUID();
    const writer = await store.openUpload(uploadId, 0);
    const data = randomBytes(3000);
    await writer.write(data.subarray(0, 1000));
    await writer.sync();
    await writer.write(data.subarray(1000, 1500));
    await writer.write(data.subarray(1500));
    await writer.sync();
    await writer.close();
    expect(names()).toEqual([`griot/uploads/${uploadId}/0000000000000000`, `griot/uploads/${uploadId}/0000000000001000`]);
    const sha256 = sha256Of(data);
    expect(await store.commitUpload(uploadId, sha256, data.length)).toEqual({ bucket: BUCKET, object: `griot/sha256/${sha256}` });
    expect(names()).toEqual([`griot/sha256/${sha256}`]);
    expect(server.objects(BUCKET)[0]!.data.equals(data)).toBe(true);
  });

  it('composes more than 32 parts in levels and removes the intermediate objects', async () => {
    const uploadId = randomUUID();
    const writer = await store.openUpload(uploadId, 0);
    const parts = Array.from({ length: 70 }, (_, i) => Buffer.from(`part ${i};`));
    for (const part of parts) {
      await writer.write(part);
      await writer.sync();
    }
    await writer.close();
    expect(names().filter((n) => n.startsWith(`griot/uploads/${uploadId}/`))).toHaveLength(70);
    const data = Buffer.concat(parts);
    await store.commitUpload(uploadId, sha256Of(data), data.length);
    expect(names().filter((n) => n.startsWith(`griot/uploads/${uploadId}/`))).toEqual([]);
    expect((await readAll(store.read(sha256Of(data)))).equals(data)).toBe(true);
  });

  it('refuses to resume inside a part object, naming the part start and the durable size', async () => {
    const uploadId = randomUUID();
    const writer = await store.openUpload(uploadId, 0);
    await writer.write(randomBytes(100));
    await writer.sync();
    await writer.write(randomBytes(100));
    await writer.close();
    const error = await store.openUpload(uploadId, 150).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UploadOffsetUnalignedError);
    expect(error).toMatchObject({ reason: 'UPLOAD_OFFSET_UNALIGNED', offset: 150, partStart: 100, durableSize: 200 });
    await store.abortUpload(uploadId);
  });

  it('leaves no part object when a writer is destroyed before sync', async () => {
    const uploadId = randomUUID();
    const writer = await store.openUpload(uploadId, 0);
    await writer.write(randomBytes(200_000));
    await writer.destroy();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(names().filter((n) => n.startsWith(`griot/uploads/${uploadId}/`))).toEqual([]);
  });

  it('works with a caller-provided client', async () => {
    const shared = new GcsBlobStore({ bucket: BUCKET, storage: new Storage({ apiEndpoint: server.url, projectId: 'test' }) });
    const uploadId = randomUUID();
    const writer = await shared.openUpload(uploadId, 0);
    await writer.write(Buffer.from('shared client'));
    await writer.close();
    const sha256 = sha256Of(Buffer.from('shared client'));
    expect(await shared.commitUpload(uploadId, sha256, 13)).toEqual({ bucket: BUCKET, object: `sha256/${sha256}` });
  });
});
