/**
 * The content store's limits, each configured small, through the real
 * service on PostgreSQL and PGlite: manifest tags (CONTENT_MAX_TAGS_BYTES),
 * bytes per ListManifests page (CONTENT_MAX_LIST_PAGE_BYTES: a page ends
 * early with a next token, and paging still lists every manifest once), and
 * concurrent upload streams per process (CONTENT_MAX_CONCURRENT_UPLOADS) and
 * per connection (CONTENT_MAX_UPLOADS_PER_CONNECTION). Each limit is
 * answered RESOURCE_EXHAUSTED with its name in the ErrorInfo metadata.
 */
import { randomUUID } from 'node:crypto';
import { credentials, status } from '@grpc/grpc-js';
import { content } from '@griot/proto';
import { callerInterceptor, CONTENT_AUDIENCE } from '@griot/test/support/fixtures';
import { DB_KINDS } from '@griot/test/support/database';
import { bytesOf, expectFailure, startTestContentStore, unary, upload, uploadMessages, type TestContentStore } from '@griot/test/support/content-store';

describe.each(DB_KINDS)('content store limits on %s', (kind) => {
  let t: TestContentStore;
  beforeAll(async () => {
    t = await startTestContentStore(kind, { CONTENT_MAX_TAGS_BYTES: '1KiB', CONTENT_MAX_LIST_PAGE_BYTES: '4KiB', CONTENT_MAX_CONCURRENT_UPLOADS: '2' });
  });
  afterAll(() => t.close());

  const create = (req: Partial<content.CreateManifestRequest>) =>
    unary(t.client, 'createManifest', { classId: randomUUID(), unpackerName: 'labox.unpacker@v1', tags: {}, contents: [], manifestId: '', ...req }).then((r) => r.manifest!);
  const list = (req: Partial<content.ListManifestsRequest>) =>
    unary(t.client, 'listManifests', { tags: undefined, classId: '', createdAfter: undefined, createdBefore: undefined, pageSize: 0, pageToken: '', ...req });

  it('refuses tags over CONTENT_MAX_TAGS_BYTES, naming the limit', async () => {
    expect(await create({ tags: { note: 'x'.repeat(900) } })).toMatchObject({ tags: { note: 'x'.repeat(900) } });
    const f = await expectFailure(create({ tags: { note: 'x'.repeat(1100) } }));
    expect(f).toMatchObject({ code: status.RESOURCE_EXHAUSTED, reason: 'TAGS_TOO_LARGE', metadata: { limit: 'CONTENT_MAX_TAGS_BYTES', max: '1024' } });
  });

  it('ends a ListManifests page early at CONTENT_MAX_LIST_PAGE_BYTES, with a next token, and pages through all', async () => {
    const classId = randomUUID();
    const made: string[] = [];
    for (let i = 0; i < 12; i++) made.push((await create({ classId, tags: { i, pad: 'p'.repeat(900) } })).id);
    const first = await list({ classId, pageSize: 100 });
    // About 1.2 KB each: 3 fit in 4 KiB, not 12.
    expect(first.manifests.length).toBeGreaterThan(0);
    expect(first.manifests.length).toBeLessThan(5);
    expect(first.nextPageToken).not.toBe('');
    const seen = first.manifests.map((m) => m.id);
    for (let token = first.nextPageToken; token !== ''; ) {
      const page = await list({ classId, pageSize: 100, pageToken: token });
      expect(page.manifests.length).toBeLessThan(5);
      seen.push(...page.manifests.map((m) => m.id));
      token = page.nextPageToken;
    }
    expect(seen).toEqual(made);
  });

  it('refuses an upload stream past CONTENT_MAX_CONCURRENT_UPLOADS, and takes one again once a stream ended', async () => {
    // Two streams left open (not finished), then a third.
    const open = [0, 1].map(() => {
      let answer!: Promise<unknown>;
      const call = t.client.uploadBlob(() => undefined);
      answer = new Promise((resolve) => call.on('status', resolve));
      return { call, answer };
    });
    const uploadIds = [randomUUID(), randomUUID()];
    open.forEach(({ call }, i) => call.write(uploadMessages(bytesOf(1024, i), { uploadId: uploadIds[i] }, { finish: false })[0]!));
    // Wait until both streams are recorded (each created its upload).
    for (const uploadId of uploadIds) {
      for (let i = 0; i < 500; i++) {
        const found = await unary(t.client, 'getUploadStatus', { uploadId }).catch(() => undefined);
        if (found) break;
        await new Promise((r) => setImmediate(r));
      }
    }
    const third = await expectFailure(upload(t.client, uploadMessages(bytesOf(1024, 9), {})));
    expect(third).toMatchObject({ code: status.RESOURCE_EXHAUSTED, reason: 'TOO_MANY_UPLOADS', metadata: { limit: 'CONTENT_MAX_CONCURRENT_UPLOADS', max: '2' } });
    open[0]!.call.end();
    await open[0]!.answer;
    expect(await upload(t.client, uploadMessages(bytesOf(1024, 9), {}))).toMatchObject({ complete: true });
    open[1]!.call.end();
    await open[1]!.answer;
  });
});

describe.each(DB_KINDS)('upload streams per connection on %s', (kind) => {
  let t: TestContentStore;
  beforeAll(async () => {
    t = await startTestContentStore(kind, { CONTENT_MAX_UPLOADS_PER_CONNECTION: '1', CONTENT_MAX_CONCURRENT_UPLOADS: '10' });
  });
  afterAll(() => t.close());

  it('refuses a second stream on one connection, naming CONTENT_MAX_UPLOADS_PER_CONNECTION, and takes one on another connection', async () => {
    const call = t.client.uploadBlob(() => undefined);
    const answer = new Promise((resolve) => call.on('status', resolve));
    const uploadId = randomUUID();
    call.write(uploadMessages(bytesOf(1024, 1), { uploadId }, { finish: false })[0]!);
    for (let i = 0; i < 500; i++) {
      if (await unary(t.client, 'getUploadStatus', { uploadId }).catch(() => undefined)) break;
      await new Promise((r) => setImmediate(r));
    }
    const second = await expectFailure(upload(t.client, uploadMessages(bytesOf(1024, 2), {})));
    expect(second).toMatchObject({ code: status.RESOURCE_EXHAUSTED, reason: 'TOO_MANY_UPLOADS', metadata: { limit: 'CONTENT_MAX_UPLOADS_PER_CONNECTION', max: '1' } });
    // A client of its own connection (no shared subchannel) is not held back by the first.
    const other = new content.ContentServiceClient(t.service.address, credentials.createInsecure(), {
      'grpc.use_local_subchannel_pool': 1,
      interceptors: [callerInterceptor(t.writer, CONTENT_AUDIENCE)],
    });
    try {
      expect(await upload(other, uploadMessages(bytesOf(1024, 3), {}))).toMatchObject({ complete: true });
    } finally {
      other.close();
    }
    call.end();
    await answer;
  });
});

describe('a raised CONTENT_MAX_TAGS_BYTES', () => {
  let t: TestContentStore;
  beforeAll(async () => {
    t = await startTestContentStore(DB_KINDS[0]!, { CONTENT_MAX_TAGS_BYTES: '128KiB' });
  });
  afterAll(() => t.close());

  it('is the limit, not the 64 KiB every other JSON field has', async () => {
    const create = (tags: Record<string, unknown>) =>
      unary(t.client, 'createManifest', { classId: randomUUID(), unpackerName: 'labox.unpacker@v1', tags, contents: [], manifestId: '' }).then((r) => r.manifest!);
    expect((await create({ note: 'x'.repeat(100_000) })).tags).toEqual({ note: 'x'.repeat(100_000) });
    const f = await expectFailure(create({ note: 'x'.repeat(140_000) }));
    expect(f).toMatchObject({ code: status.RESOURCE_EXHAUSTED, reason: 'TAGS_TOO_LARGE', metadata: { max: '131072' } });
  });
});
