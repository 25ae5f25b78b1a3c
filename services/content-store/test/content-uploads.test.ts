/**
 * Uploads through the real content store: chunked upload and read back,
 * resume after the client cancelled, deduplication, FindMissingBlobs and
 * GetBlob, and expiry of abandoned uploads. On PostgreSQL and PGlite.
 */
import { randomUUID } from 'node:crypto';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { status } from '@grpc/grpc-js';
import { DB_KINDS } from '@griot/test/support/database';
import { bytesOf, expectFailure, failure, readAll, sha256, startTestContentStore, unary, upload, uploadMessages, type TestContentStore } from '@griot/test/support/content-store';

const KiB = 1024;

describe.each(DB_KINDS)('content store uploads on %s', (kind) => {
  let t: TestContentStore;
  beforeAll(async () => {
    t = await startTestContentStore(kind, { CONTENT_UPLOAD_SYNC_BYTES: '64KiB', CONTENT_UPLOAD_TTL: '1h' });
  });
  afterAll(() => t.close());

  const status_ = (uploadId: string) => unary(t.client, 'getUploadStatus', { uploadId });

  it('uploads in chunks, commits under the SHA-256, and reads the bytes back', async () => {
    const data = bytesOf(300 * KiB + 17, 7);
    const res = await upload(t.client, uploadMessages(data, { size: data.length }, { chunk: 32 * KiB }));
    expect(res).toMatchObject({ complete: true, deduplicated: false, committedSize: data.length });
    expect(res.blob).toMatchObject({ sha256: sha256(data), size: data.length, storageName: 'griot.file@v1' });
    expect(res.blob!.storageConfig).toEqual({ path: `sha256/${sha256(data).slice(0, 2)}/${sha256(data)}` });
    const onDisk = await stat(join(t.dataDir, 'content-store', 'blobs', res.blob!.storageConfig!.path as string));
    expect(onDisk.size).toBe(data.length);
    const read = await readAll(t.client, { target: { $case: 'blob', blob: { sha256: sha256(data), storageName: '' } } });
    expect(read.error).toBeUndefined();
    expect(read.data.equals(data)).toBe(true);
    expect(read.messages[0]!.totalSize).toBe(data.length);
    expect((await status_(res.uploadId)).complete).toBe(true);
    // No staged bytes are left once committed.
    expect(await readdir(join(t.dataDir, 'content-store', 'blobs', 'uploads'))).toEqual([]);
  });

  it('uploads an empty blob', async () => {
    const res = await upload(t.client, uploadMessages(Buffer.alloc(0), { size: 0 }));
    expect(res.blob).toMatchObject({ sha256: sha256(Buffer.alloc(0)), size: 0 });
  });

  it('resumes an upload the client cancelled, from the committed offset, and the digest is right', async () => {
    const data = bytesOf(1024 * KiB, 11);
    const uploadId = randomUUID();
    const messages = uploadMessages(data, { uploadId, sha256: sha256(data), size: data.length }, { chunk: 64 * KiB });
    let durableBeforeCancel = 0;
    const cancelled = new Promise<unknown>((resolve) => {
      const call = t.client.uploadBlob((err) => resolve(err));
      void (async () => {
        for (const m of messages.slice(0, 8)) call.write(m);
        // Wait until the server has made what it received durable, with the
        // stream open and silent, then go away.
        let durable = 0;
        for (let i = 0; i < 500 && durable < 512 * KiB; i++) {
          durable = (await status_(uploadId).catch(() => undefined))?.committedSize ?? 0;
          if (durable < 512 * KiB) await sleep(10);
        }
        durableBeforeCancel = durable;
        call.cancel();
      })();
    });
    expect(failure(await cancelled).code).toBe(status.CANCELLED);
    // Every byte received was made durable while the stream stayed open, not only at its end.
    expect(durableBeforeCancel).toBe(512 * KiB);

    let committed = (await status_(uploadId)).committedSize;
    let res;
    for (let attempt = 0; ; attempt++) {
      try {
        res = await upload(t.client, uploadMessages(data.subarray(committed), { uploadId }, { chunk: 64 * KiB, offset: committed }));
        break;
      } catch (err) {
        // The cancelled stream may still be finishing on the server (busy,
        // or it recorded more after we asked): do what a client does.
        const f = failure(err);
        if (attempt > 50 || (f.reason !== 'UPLOAD_IN_PROGRESS' && f.reason !== 'WRONG_OFFSET')) throw err;
        committed = f.reason === 'WRONG_OFFSET' ? Number(f.metadata.expectedOffset) : (await status_(uploadId)).committedSize;
        await sleep(20);
      }
    }
    expect(committed).toBeGreaterThanOrEqual(256 * KiB);
    expect(committed).toBeLessThan(data.length);
    expect(committed % (64 * KiB)).toBe(0);
    expect(res).toMatchObject({ complete: true, committedSize: data.length });
    expect(res.blob!.sha256).toBe(sha256(data));
    const read = await readAll(t.client, { target: { $case: 'blob', blob: { sha256: sha256(data), storageName: 'griot.file@v1' } } });
    expect(read.data.equals(data)).toBe(true);
  });

  it('keeps an upload that ends without finish_write, and a wrong resume offset names the expected one', async () => {
    const data = bytesOf(200 * KiB, 13);
    const uploadId = randomUUID();
    const first = await upload(t.client, uploadMessages(data.subarray(0, 128 * KiB), { uploadId, size: data.length }, { finish: false }));
    expect(first).toMatchObject({ uploadId, committedSize: 128 * KiB, complete: false });
    const s = await status_(uploadId);
    expect(s).toMatchObject({ committedSize: 128 * KiB, complete: false });
    expect(s.expireTime!.getTime()).toBeGreaterThan(Date.now() + 50 * 60_000);

    const wrong = await expectFailure(upload(t.client, uploadMessages(data.subarray(100 * KiB), { uploadId }, { offset: 100 * KiB })));
    expect(wrong).toMatchObject({ code: status.OUT_OF_RANGE, reason: 'WRONG_OFFSET', metadata: { expectedOffset: String(128 * KiB), offset: String(100 * KiB) } });
    expect(wrong.message).toContain(`continues at offset ${128 * KiB}`);
    // The failed attempt changed nothing.
    expect((await status_(uploadId)).committedSize).toBe(128 * KiB);

    const done = await upload(t.client, uploadMessages(data.subarray(128 * KiB), { uploadId }, { offset: 128 * KiB }));
    expect(done.blob!.sha256).toBe(sha256(data));
    // Asking again for a complete upload answers its blob.
    const again = await upload(t.client, [{ start: { uploadId, storageName: '', sha256: '' }, offset: 0, data: Buffer.alloc(0), finishWrite: true }]);
    expect(again).toMatchObject({ complete: true, blob: { sha256: sha256(data) } });
  });

  it('completes at once when the storage already holds the declared digest, and FindMissingBlobs says what is missing', async () => {
    const data = bytesOf(100 * KiB, 17);
    const digest = sha256(data);
    const absent = sha256(Buffer.from('never uploaded'));
    expect((await unary(t.client, 'findMissingBlobs', { storageName: '', sha256: [digest, absent] })).missingSha256).toEqual([digest, absent]);
    await upload(t.client, uploadMessages(data, { sha256: digest }));
    expect((await unary(t.client, 'findMissingBlobs', { storageName: 'griot.file@v1', sha256: [absent, digest] })).missingSha256).toEqual([absent]);

    // Only the start: no bytes at all, and success, not ALREADY_EXISTS.
    const uploadId = randomUUID();
    const dedup = await upload(t.client, [{ start: { uploadId, storageName: '', sha256: digest, size: data.length }, offset: 0, data: Buffer.alloc(0), finishWrite: false }]);
    expect(dedup).toMatchObject({ uploadId, complete: true, deduplicated: true, committedSize: data.length, blob: { sha256: digest, size: data.length } });
    expect(await status_(uploadId)).toMatchObject({ complete: true, blob: { sha256: digest } });

    const blob = await unary(t.client, 'getBlob', { sha256: digest, storageName: '' });
    expect(blob.blob).toMatchObject({ sha256: digest, size: data.length, storageName: 'griot.file@v1' });
    expect(await expectFailure(unary(t.client, 'getBlob', { sha256: absent, storageName: '' }))).toMatchObject({ code: status.NOT_FOUND, reason: 'BLOB_NOT_FOUND' });
  });

  it('expires an abandoned upload after the TTL: the record and the staged bytes go', async () => {
    const uploadId = randomUUID();
    await upload(t.client, uploadMessages(bytesOf(100 * KiB, 19), { uploadId }, { finish: false }));
    const staged = join(t.dataDir, 'content-store', 'blobs', 'uploads', uploadId);
    expect((await stat(staged)).size).toBe(100 * KiB);
    expect((await t.service.sweep()).expiredUploads).toBe(0);
    t.advance(61 * 60_000);
    const report = await t.service.sweep();
    expect(report.expiredUploads).toBeGreaterThanOrEqual(1);
    await expect(stat(staged)).rejects.toMatchObject({ code: 'ENOENT' });
    expect(await expectFailure(status_(uploadId))).toMatchObject({ code: status.NOT_FOUND, reason: 'UPLOAD_NOT_FOUND' });
  });
});
