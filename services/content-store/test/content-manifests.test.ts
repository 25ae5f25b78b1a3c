/**
 * Manifests and reads through the real content store: atomic creation,
 * reads whole and ranged, DATA_LOSS on corrupted bytes, listing with
 * filters and pages, deletion of unreferenced bytes. On PostgreSQL and PGlite.
 */
import { randomUUID } from 'node:crypto';
import { open, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { status } from '@grpc/grpc-js';
import { content } from '@griot/proto';
import { DB_KINDS } from '@griot/test/support/database';
import { bytesOf, expectFailure, readAll, sha256, startTestContentStore, unary, upload, uploadMessages, type TestContentStore } from '@griot/test/support/content-store';

const KiB = 1024;
const VALUE = content.SerializerType.SERIALIZER_TYPE_VALUE;
const STREAM = content.SerializerType.SERIALIZER_TYPE_STREAM;

/** A content spec with defaults. */
function spec(key: string, source: content.ContentSpec['source'], extra: Partial<content.ContentSpec> = {}): content.ContentSpec {
  return {
    contentKey: key,
    contentType: 'application/octet-stream',
    contentEncoding: '',
    serializerName: 'labox.bytes@v1',
    serializerConfig: { level: 1 },
    serializerType: STREAM,
    storageName: '',
    source,
    ...extra,
  };
}

describe.each(DB_KINDS)('content store manifests on %s', (kind) => {
  let t: TestContentStore;
  beforeAll(async () => {
    t = await startTestContentStore(kind, { CONTENT_UPLOAD_TTL: '1h' });
  });
  afterAll(() => t.close());

  const create = (req: Partial<content.CreateManifestRequest>) =>
    unary(t.client, 'createManifest', { classId: randomUUID(), unpackerName: 'labox.unpacker@v1', tags: {}, contents: [], manifestId: '', ...req }).then((r) => r.manifest!);
  const list = (req: Partial<content.ListManifestsRequest>) =>
    unary(t.client, 'listManifests', { tags: undefined, classId: '', createdAfter: undefined, createdBefore: undefined, pageSize: 0, pageToken: '', ...req });
  const blobPath = (digest: string) => join(t.dataDir, 'content-store', 'blobs', 'sha256', digest.slice(0, 2), digest);
  const put = async (data: Buffer) => (await upload(t.client, uploadMessages(data, {}))).blob!.sha256;

  it('saves a manifest with an uploaded and an inline content, and reads it back', async () => {
    const data = bytesOf(150 * KiB, 21);
    const digest = await put(data);
    const inline = Buffer.from('{"hello":"world"}');
    const classId = randomUUID();
    const m = await create({
      classId,
      tags: { app: 'griot', nested: { level: 2 }, list: [1, 'two'] },
      contents: [spec('z-body', { $case: 'blobSha256', blobSha256: digest }), spec('a-meta', { $case: 'inlineValue', inlineValue: inline }, { serializerType: VALUE, contentType: 'application/json', contentEncoding: 'identity' })],
    });
    expect(m).toMatchObject({ classId, unpackerName: 'labox.unpacker@v1', tags: { app: 'griot', nested: { level: 2 }, list: [1, 'two'] } });
    expect(m.contents.map((c) => c.contentKey)).toEqual(['a-meta', 'z-body']);
    expect(m.contents[0]).toMatchObject({
      contentSize: inline.length, contentHash: sha256(inline), contentHashAlgorithm: 'sha256', serializerType: VALUE,
      storageName: 'griot.file@v1', contentEncoding: 'identity', contentType: 'application/json', manifestId: m.id,
    });
    expect(m.contents[1]).toMatchObject({ contentSize: data.length, contentHash: digest, serializerType: STREAM, serializerConfig: { level: 1 } });
    expect(m.contents[1]!.storageConfig).toEqual({ path: `sha256/${digest.slice(0, 2)}/${digest}` });
    expect((await unary(t.client, 'getManifest', { id: m.id })).manifest).toEqual(m);

    const byId = await readAll(t.client, { target: { $case: 'contentId', contentId: m.contents[1]!.id } });
    expect(byId.error).toBeUndefined();
    expect(byId.data.equals(data)).toBe(true);
    const byKey = await readAll(t.client, { target: { $case: 'contentRef', contentRef: { manifestId: m.id, contentKey: 'a-meta' } } });
    expect(byKey.data.toString()).toBe(inline.toString());
    expect(byKey.messages[0]!.totalSize).toBe(inline.length);
  });

  it('is atomic: a content that cannot be saved leaves no manifest and no content', async () => {
    const classId = randomUUID();
    const digest = await put(bytesOf(10 * KiB, 23));
    const missing = sha256(Buffer.from('not uploaded'));
    const f = await expectFailure(create({
      classId,
      contents: [spec('ok', { $case: 'blobSha256', blobSha256: digest }), spec('inline', { $case: 'inlineValue', inlineValue: Buffer.from('x') }), spec('bad', { $case: 'blobSha256', blobSha256: missing })],
    }));
    expect(f).toMatchObject({ code: status.FAILED_PRECONDITION, reason: 'BLOB_NOT_FOUND', metadata: { sha256: missing, contentKey: 'bad' } });
    expect(f.message).toContain(missing);
    expect((await list({ classId })).manifests).toEqual([]);
  });

  it('reads ranges: offset and limit, to the end, empty at the end, OUT_OF_RANGE past it', async () => {
    const data = bytesOf(2 * 1024 * KiB + 5, 29);
    const digest = await put(data);
    const m = await create({ contents: [spec('body', { $case: 'blobSha256', blobSha256: digest })] });
    const target = { $case: 'contentId' as const, contentId: m.contents[0]!.id };
    const mid = await readAll(t.client, { target, offset: 1000, limit: 1024 * KiB + 3 });
    expect(mid.error).toBeUndefined();
    expect(mid.data.equals(data.subarray(1000, 1000 + 1024 * KiB + 3))).toBe(true);
    expect(mid.messages[0]).toMatchObject({ offset: 1000, totalSize: data.length });
    expect(mid.messages.every((msg) => msg.data.length <= 1024 * KiB)).toBe(true);
    const tail = await readAll(t.client, { target, offset: data.length - 5 });
    expect(tail.data.equals(data.subarray(data.length - 5))).toBe(true);
    const over = await readAll(t.client, { target, offset: 10, limit: data.length * 2 });
    expect(over.data.equals(data.subarray(10))).toBe(true);
    const end = await readAll(t.client, { target, offset: data.length });
    expect(end.error).toBeUndefined();
    expect(end.data.length).toBe(0);
    expect(end.messages[0]!.totalSize).toBe(data.length);
    const past = await readAll(t.client, { target, offset: data.length + 1 });
    expect(past.error!.code).toBe(status.OUT_OF_RANGE);
    expect(past.error!.details).toContain(`${data.length + 1} is past the end of the ${data.length}-byte content`);
  });

  it('fails a whole read with DATA_LOSS when the stored bytes were corrupted', async () => {
    const data = bytesOf(300 * KiB, 31);
    const digest = await put(data);
    const m = await create({ contents: [spec('body', { $case: 'blobSha256', blobSha256: digest })] });
    const file = await open(blobPath(digest), 'r+');
    await file.write(Buffer.from([data[200 * KiB]! ^ 0xff]), 0, 1, 200 * KiB);
    await file.close();
    const whole = await readAll(t.client, { target: { $case: 'contentId', contentId: m.contents[0]!.id } });
    expect(whole.error!.code).toBe(status.DATA_LOSS);
    expect(whole.error!.details).toContain(`not the recorded ${digest}`);
    // A range cannot be checked against the whole digest; it is served as stored.
    const range = await readAll(t.client, { target: { $case: 'contentId', contentId: m.contents[0]!.id }, offset: 0, limit: 1000 });
    expect(range.error).toBeUndefined();
    expect(range.data.equals(data.subarray(0, 1000))).toBe(true);
  });

  it('lists by tags, class and time, in pages with tokens bound to the query', async () => {
    const classId = randomUUID();
    const suite = randomUUID();
    const made: content.Manifest[] = [];
    for (let i = 0; i < 5; i++) {
      made.push(await create({ classId, tags: { suite, n: i, even: i % 2 === 0, meta: { owner: i < 3 ? 'ann' : 'bob' } } }));
      t.advance(1000);
    }
    await create({ tags: { suite, n: 99 } }); // another class
    const ids = made.map((m) => m.id);

    const pages: string[][] = [];
    let token = '';
    do {
      const page = await list({ classId, pageSize: 2, pageToken: token });
      pages.push(page.manifests.map((m) => m.id));
      token = page.nextPageToken;
    } while (token);
    expect(pages).toEqual([ids.slice(0, 2), ids.slice(2, 4), ids.slice(4)]);

    expect((await list({ tags: { suite, even: true } })).manifests.map((m) => m.id)).toEqual([ids[0], ids[2], ids[4]]);
    expect((await list({ tags: { suite, meta: { owner: 'bob' } } })).manifests.map((m) => m.id)).toEqual([ids[3], ids[4]]);
    expect((await list({ tags: { suite } })).manifests).toHaveLength(6);
    const after = made[1]!.createdAt!;
    const before = made[3]!.createdAt!;
    expect((await list({ classId, createdAfter: after, createdBefore: before })).manifests.map((m) => m.id)).toEqual([ids[1], ids[2]]);
    expect((await list({ tags: { suite } })).manifests[0]!.contents).toEqual([]);

    const first = await list({ classId, pageSize: 2 });
    const other = await expectFailure(list({ classId, pageSize: 2, pageToken: first.nextPageToken, tags: { suite } }));
    expect(other).toMatchObject({ code: status.INVALID_ARGUMENT, reason: 'PAGE_TOKEN_QUERY_MISMATCH' });
    // The same query with another page size is the same query.
    expect((await list({ classId, pageSize: 3, pageToken: first.nextPageToken })).manifests.map((m) => m.id)).toEqual(ids.slice(2, 5));
  });

  it('deletes bytes when no content references them any more, and keeps them while one does', async () => {
    const shared = bytesOf(40 * KiB, 37);
    const own = bytesOf(40 * KiB, 41);
    const [sharedSha, ownSha] = [await put(shared), await put(own)];
    const a = await create({ contents: [spec('s', { $case: 'blobSha256', blobSha256: sharedSha }), spec('o', { $case: 'blobSha256', blobSha256: ownSha })] });
    const b = await create({ contents: [spec('s', { $case: 'blobSha256', blobSha256: sharedSha })] });

    const deletedA = await unary(t.client, 'deleteManifest', { id: a.id });
    expect(deletedA.manifest!.id).toBe(a.id);
    expect(deletedA.deletedSha256).toEqual([ownSha]);
    await expect(stat(blobPath(ownSha))).rejects.toMatchObject({ code: 'ENOENT' });
    expect((await stat(blobPath(sharedSha))).size).toBe(shared.length);
    expect((await unary(t.client, 'findMissingBlobs', { storageName: '', sha256: [sharedSha, ownSha] })).missingSha256).toEqual([ownSha]);
    expect(await expectFailure(unary(t.client, 'getManifest', { id: a.id }))).toMatchObject({ code: status.NOT_FOUND, reason: 'MANIFEST_NOT_FOUND' });
    const read = await readAll(t.client, { target: { $case: 'contentRef', contentRef: { manifestId: b.id, contentKey: 's' } } });
    expect(read.data.equals(shared)).toBe(true);

    // FindMissingBlobs just pinned the shared blob: deleting B keeps it until the pin passes, then the sweeper deletes it.
    expect((await unary(t.client, 'deleteManifest', { id: b.id })).deletedSha256).toEqual([]);
    expect((await stat(blobPath(sharedSha))).size).toBe(shared.length);
    t.advance(2 * 3600_000);
    expect((await t.service.sweep()).deletedBlobs).toBeGreaterThanOrEqual(1);
    await expect(stat(blobPath(sharedSha))).rejects.toMatchObject({ code: 'ENOENT' });
    expect(await expectFailure(unary(t.client, 'deleteManifest', { id: b.id }))).toMatchObject({ code: status.NOT_FOUND });
  });

  it('keeps an uploaded blob no manifest references until its pin passes, then sweeps it', async () => {
    const digest = await put(bytesOf(20 * KiB, 43));
    await t.service.sweep();
    expect((await stat(blobPath(digest))).isFile()).toBe(true);
    t.advance(2 * 3600_000);
    await t.service.sweep();
    await expect(stat(blobPath(digest))).rejects.toMatchObject({ code: 'ENOENT' });
    expect((await unary(t.client, 'findMissingBlobs', { storageName: '', sha256: [digest] })).missingSha256).toEqual([digest]);
  });
});
