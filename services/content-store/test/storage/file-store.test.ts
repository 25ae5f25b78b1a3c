import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeBlobStore, readAll, sha256Of } from '../support/describe-blob-store';
import { FileBlobStore } from '../../src/storage/file-store';
import type { FileUploadWriter } from '../../src/storage/file-upload-writer';

async function stagedFiles(root: string, uploadId: string): Promise<string[]> {
  const names = await readdir(join(root, 'uploads')).catch(() => [] as string[]);
  return names.filter((name) => name === uploadId);
}

/** A file store on a fresh temporary root, for the conformance suite. */
function fileStoreFixture(directIo: boolean) {
  return async () => {
    const root = await mkdtemp(join(tmpdir(), 'griot-file-store-'));
    const store = new FileBlobStore({ root, directIo });
    return {
      store,
      staged: (uploadId: string) => stagedFiles(root, uploadId),
      cleanup: async () => {
        await store.close();
        await rm(root, { recursive: true, force: true });
      },
    };
  };
}

describeBlobStore('FileBlobStore', fileStoreFixture(true));

describeBlobStore('FileBlobStore through the page cache (CONTENT_FILE_DIRECT_IO=off)', fileStoreFixture(false));

describe('FileBlobStore layout', () => {
  let root: string;
  let store: FileBlobStore;

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'griot-file-layout-'));
    store = new FileBlobStore({ root });
  });

  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('stores a blob at sha256/<aa>/<hex> and records that relative path', async () => {
    const data = randomBytes(5000);
    const sha256 = sha256Of(data);
    const uploadId = randomUUID();
    const writer = await store.openUpload(uploadId, 0);
    await writer.write(data);
    await writer.close();
    expect(await store.commitUpload(uploadId, sha256, data.length)).toEqual({ path: `sha256/${sha256.slice(0, 2)}/${sha256}` });
    expect((await readFile(join(root, 'sha256', sha256.slice(0, 2), sha256))).equals(data)).toBe(true);
    await expect(stat(join(root, 'uploads', uploadId))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('stages an upload at uploads/<uploadId> and cuts it back to the offset it is reopened at', async () => {
    const uploadId = randomUUID();
    const writer = await store.openUpload(uploadId, 0);
    await writer.write(randomBytes(1000));
    await writer.sync();
    await writer.write(randomBytes(500));
    await writer.destroy();
    expect((await stat(join(root, 'uploads', uploadId))).size).toBe(1500);
    const resumed = await store.openUpload(uploadId, 1000);
    expect((await stat(join(root, 'uploads', uploadId))).size).toBe(1000);
    await resumed.destroy();
    await store.abortUpload(uploadId);
  });

  it('writes uploads direct unless told not to', async () => {
    const buffered = new FileBlobStore({ root, directIo: false });
    for (const [which, expected] of [[store, true], [buffered, false]] as const) {
      const uploadId = randomUUID();
      const writer = await which.openUpload(uploadId, 0);
      expect((writer as FileUploadWriter).directIo).toBe(expected);
      await writer.destroy();
      await which.abortUpload(uploadId);
    }
  });

  it('normalizes upload ids to lowercase so every backend names an upload alike', async () => {
    const uploadId = randomUUID();
    const writer = await store.openUpload(uploadId.toUpperCase(), 0);
    await writer.write(Buffer.from('x'));
    await writer.close();
    expect((await readAll(store.readUpload(uploadId, 1))).toString()).toBe('x');
    await store.abortUpload(uploadId);
  });

  it('reads into the buffers the caller allocates, in 1 MiB chunks', async () => {
    const data = randomBytes(2 * 1024 * 1024 + 100);
    const sha256 = sha256Of(data);
    const uploadId = randomUUID();
    const writer = await store.openUpload(uploadId, 0);
    await writer.write(data);
    await writer.close();
    await store.commitUpload(uploadId, sha256, data.length);
    const allocated: Buffer[] = [];
    const buffers = { allocate: (size: number) => allocated[allocated.push(Buffer.alloc(size)) - 1]! };
    const chunks: Buffer[] = [];
    for await (const chunk of store.read(sha256, { offset: 50 }, buffers)) chunks.push(chunk as Buffer);
    expect(Buffer.concat(chunks).equals(data.subarray(50))).toBe(true);
    expect(chunks.map((c) => c.length)).toEqual([1024 * 1024, 1024 * 1024, 50]);
    expect(chunks.every((c, i) => c === allocated[i])).toBe(true);
  });
});
