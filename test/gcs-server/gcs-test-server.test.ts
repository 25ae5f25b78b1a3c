import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Storage, type Bucket } from '@google-cloud/storage';
import { startGcsTestServer, type GcsTestServer } from './index';

const BUCKET = 'griot-test';

let server: GcsTestServer;
let storage: Storage;
let bucket: Bucket;

beforeAll(async () => {
  server = await startGcsTestServer();
  storage = new Storage({ apiEndpoint: server.url, projectId: 'test' });
  bucket = storage.bucket(BUCKET);
});

afterAll(async () => {
  await server.close();
});

async function download(name: string, range?: { start?: number; end?: number }): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of bucket.file(name).createReadStream(range)) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** HTTP status of a client error: `code` on an ApiError, `status` on a GaxiosError (resumable uploads). */
function statusOf(err: unknown): unknown {
  const e = err as { code?: unknown; status?: unknown };
  return typeof e.code === 'number' ? e.code : e.status;
}

describe('uploads through the real client', () => {
  it('stores a multipart upload (save without resumable) with its content type and metadata', async () => {
    const data = Buffer.from('hello multipart');
    await bucket.file('multi/a.txt').save(data, {
      resumable: false,
      contentType: 'text/plain',
      metadata: { metadata: { owner: 'griot' } },
    });
    const stored = server.objects(BUCKET).find((o) => o.name === 'multi/a.txt');
    expect(stored?.data.equals(data)).toBe(true);
    expect(stored?.contentType).toBe('text/plain');
    const [metadata] = await bucket.file('multi/a.txt').getMetadata();
    expect(metadata.size).toBe(String(data.length));
    expect(metadata.metadata).toEqual({ owner: 'griot' });
  });

  it('stores a resumable upload sent in one streaming request, and the client validates its CRC32C', async () => {
    const data = randomBytes(1024 * 1024 + 17);
    await pipeline(Readable.from([data.subarray(0, 300_000), data.subarray(300_000)]), bucket.file('resumable/one').createWriteStream({ resumable: true }));
    expect((await download('resumable/one')).equals(data)).toBe(true);
  });

  it('stores a chunked resumable upload (308 Resume Incomplete between chunks)', async () => {
    const data = randomBytes(700 * 1024);
    await pipeline(Readable.from([data]), bucket.file('resumable/chunked').createWriteStream({ resumable: true, chunkSize: 256 * 1024 }));
    expect((await download('resumable/chunked')).equals(data)).toBe(true);
  });

  it('stores an empty resumable upload', async () => {
    await bucket.file('resumable/empty').save(Buffer.alloc(0), { resumable: true });
    expect((await download('resumable/empty')).length).toBe(0);
  });

  it('stores a simple media upload (uploadType=media)', async () => {
    const response = await fetch(`${server.url}/upload/storage/v1/b/${BUCKET}/o?uploadType=media&name=${encodeURIComponent('media/b c')}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-test' },
      body: 'media bytes',
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ name: 'media/b c', size: '11', contentType: 'application/x-test' });
    expect((await download('media/b c')).toString()).toBe('media bytes');
  });

  it('answers the status query of a resumable session with 308 and Range, then 200 once finalized', async () => {
    const [uri] = await bucket.file('resumable/manual').createResumableUpload();
    const put = (range: string, body?: string) => fetch(uri, { method: 'PUT', headers: { 'Content-Range': range }, body });
    const empty = await put('bytes */*');
    expect(empty.status).toBe(308);
    expect(empty.headers.get('range')).toBeNull();
    expect((await put('bytes 0-4/*', 'abcde')).headers.get('range')).toBe('bytes=0-4');
    const query = await put('bytes */*');
    expect(query.status).toBe(308);
    expect(query.headers.get('range')).toBe('bytes=0-4');
    // A resent overlapping chunk is skipped up to what the session already has.
    const last = await put('bytes 3-9/10', 'defghij');
    expect(last.status).toBe(200);
    expect(await last.json()).toMatchObject({ name: 'resumable/manual', size: '10' });
    expect((await put('bytes */10')).status).toBe(200);
    expect((await download('resumable/manual')).toString()).toBe('abcdefghij');
  });

  it('finalizes nothing when a resumable upload is destroyed before it ends', async () => {
    const stream = bucket.file('resumable/aborted').createWriteStream({ resumable: true });
    const failed = new Promise((resolve) => stream.once('error', resolve));
    await new Promise<void>((resolve) => stream.write(randomBytes(200_000), () => resolve()));
    stream.destroy(new Error('simulated crash'));
    await failed;
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(server.objects(BUCKET).some((o) => o.name === 'resumable/aborted')).toBe(false);
  });
});

describe('downloads', () => {
  const data = Buffer.from('0123456789abcdefghij');

  beforeAll(async () => {
    await bucket.file('ranged').save(data, { resumable: false });
  });

  it('serves byte ranges as 206 partial content', async () => {
    expect((await download('ranged', { start: 5, end: 9 })).toString()).toBe('56789');
    expect((await download('ranged', { start: 15 })).toString()).toBe('fghij');
  });

  it('answers 206 with Content-Range and 416 past the end', async () => {
    const url = `${server.url}/storage/v1/b/${BUCKET}/o/ranged?alt=media`;
    const partial = await fetch(url, { headers: { Range: 'bytes=18-' } });
    expect(partial.status).toBe(206);
    expect(partial.headers.get('content-range')).toBe('bytes 18-19/20');
    expect(await partial.text()).toBe('ij');
    expect((await fetch(url, { headers: { Range: 'bytes=20-' } })).status).toBe(416);
  });

  it('answers 404 in the GCS error shape for a missing object', async () => {
    const response = await fetch(`${server.url}/storage/v1/b/${BUCKET}/o/${encodeURIComponent('no/such')}`);
    expect(response.status).toBe(404);
    expect(await response.json()).toEqual({
      error: {
        code: 404,
        message: `No such object: ${BUCKET}/no/such`,
        errors: [{ message: `No such object: ${BUCKET}/no/such`, domain: 'global', reason: 'notFound' }],
      },
    });
    await expect(bucket.file('no/such').getMetadata()).rejects.toMatchObject({ code: 404 });
    await expect(download('no/such')).rejects.toMatchObject({ code: 404 });
    expect(await bucket.file('no/such').exists()).toEqual([false]);
  });
});

describe('listing, deleting and composing', () => {
  it('lists by prefix, page by page', async () => {
    for (const name of ['list/a', 'list/b', 'list/c', 'list/d/e', 'listx']) {
      await bucket.file(name).save(name, { resumable: false });
    }
    const [all] = await bucket.getFiles({ prefix: 'list/' });
    expect(all.map((f) => f.name)).toEqual(['list/a', 'list/b', 'list/c', 'list/d/e']);
    const [page, next] = await bucket.getFiles({ prefix: 'list/', maxResults: 3, autoPaginate: false });
    expect(page.map((f) => f.name)).toEqual(['list/a', 'list/b', 'list/c']);
    expect(next).toMatchObject({ pageToken: expect.any(String) });
    const [rest, after] = await bucket.getFiles({ ...(next as object), autoPaginate: false });
    expect(rest.map((f) => f.name)).toEqual(['list/d/e']);
    expect(after).toBeNull();
    const [, , response] = await bucket.getFiles({ prefix: 'list/', delimiter: '/', autoPaginate: false });
    expect((response as { prefixes?: string[] }).prefixes).toEqual(['list/d/']);
  });

  it('deletes, and answers 404 for a second delete', async () => {
    await bucket.file('gone').save('x', { resumable: false });
    await bucket.file('gone').delete();
    expect(await bucket.file('gone').exists()).toEqual([false]);
    await expect(bucket.file('gone').delete()).rejects.toMatchObject({ code: 404 });
    await bucket.file('gone').delete({ ignoreNotFound: true });
  });

  it('composes objects, counting components, and refuses more than 32 sources', async () => {
    await bucket.file('part/1').save('abc', { resumable: false });
    await bucket.file('part/2').save('def', { resumable: false });
    await bucket.combine(['part/1', 'part/2'], 'composed');
    expect((await download('composed')).toString()).toBe('abcdef');
    const [metadata] = await bucket.file('composed').getMetadata();
    expect(metadata.componentCount).toBe(2);
    const tooMany = Array.from({ length: 33 }, () => 'part/1');
    await expect(bucket.combine(tooMany, 'too-many')).rejects.toMatchObject({ code: 400 });
    await expect(bucket.combine(['part/1', 'part/missing'], 'broken')).rejects.toMatchObject({ code: 404 });
  });
});

describe('preconditions', () => {
  const createOnly = { preconditionOpts: { ifGenerationMatch: 0 } };

  it('refuses a second create-only multipart upload with 412 and keeps the first bytes', async () => {
    await bucket.file('once').save('first', { resumable: false, ...createOnly });
    const error = await bucket.file('once').save('second', { resumable: false, ...createOnly }).catch((e: unknown) => e);
    expect(statusOf(error)).toBe(412);
    expect((await download('once')).toString()).toBe('first');
  });

  it('refuses a create-only resumable upload of an existing object with 412', async () => {
    await bucket.file('once-resumable').save('first', { resumable: true, ...createOnly });
    const error = await bucket.file('once-resumable').save('second', { resumable: true, ...createOnly }).catch((e: unknown) => e);
    expect(statusOf(error)).toBe(412);
    expect((await download('once-resumable')).toString()).toBe('first');
  });

  it('refuses a create-only compose onto an existing object with 412, and matches generations', async () => {
    await bucket.file('src').save('src', { resumable: false });
    await bucket.combine(['src'], 'dest', { ifGenerationMatch: 0 });
    const error = await bucket.combine(['src', 'src'], 'dest', { ifGenerationMatch: 0 }).catch((e: unknown) => e);
    expect(statusOf(error)).toBe(412);
    const [metadata] = await bucket.file('dest').getMetadata();
    await bucket.combine(['src', 'src'], 'dest', { ifGenerationMatch: Number(metadata.generation) });
    expect((await download('dest')).toString()).toBe('srcsrc');
  });

  it('deletes only the generation asked for', async () => {
    await bucket.file('guarded').save('x', { resumable: false });
    const error = await bucket.file('guarded').delete({ ifGenerationMatch: 1 }).catch((e: unknown) => e);
    expect(statusOf(error)).toBe(412);
    expect(await bucket.file('guarded').exists()).toEqual([true]);
  });
});
