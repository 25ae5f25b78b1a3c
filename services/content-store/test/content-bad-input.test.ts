/**
 * Every kind of bad input to the content store gets a precise status code, a
 * message naming the problem and an ErrorInfo reason, and leaves nothing
 * behind (no upload record, no staged bytes, no blob, no manifest). On
 * PostgreSQL and PGlite.
 */
import { randomUUID } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { status } from '@grpc/grpc-js';
import { content } from '@griot/proto';
import { DB_KINDS } from '@griot/test/support/database';
import { bytesOf, expectFailure, failure, readAll, sha256, startTestContentStore, unary, upload, uploadMessages, type TestContentStore } from '@griot/test/support/content-store';

const KiB = 1024;
const CHUNK_LIMIT = 64 * KiB;
const DATA = bytesOf(200 * KiB, 51);
const DIGEST = sha256(DATA);

interface UploadCase {
  name: string;
  messages(uploadId: string): content.UploadBlobRequest[];
  code: status;
  reason: string;
  message: RegExp;
}

const start = (uploadId: string, extra: Partial<content.UploadStart> = {}) => ({ uploadId, storageName: '', sha256: '', ...extra });
const msg = (m: Partial<content.UploadBlobRequest>): content.UploadBlobRequest => ({ start: undefined, offset: 0, data: Buffer.alloc(0), finishWrite: false, ...m });

const UPLOAD_CASES: UploadCase[] = [
  { name: 'an empty stream', messages: () => [], code: status.INVALID_ARGUMENT, reason: 'MISSING_START', message: /first message must carry start/ },
  { name: 'a first message without start', messages: () => [msg({ data: DATA.subarray(0, 10), finishWrite: true })], code: status.INVALID_ARGUMENT, reason: 'MISSING_START', message: /first message must carry start/ },
  {
    name: 'start in a later message',
    messages: (id) => [msg({ start: start(id), data: DATA.subarray(0, 10) }), msg({ start: start(id), offset: 10, data: DATA.subarray(10, 20) })],
    code: status.INVALID_ARGUMENT, reason: 'START_REPEATED', message: /start: is only allowed in the first message/,
  },
  {
    name: 'offsets out of order',
    messages: (id) => [msg({ start: start(id), data: DATA.subarray(0, 10) }), msg({ offset: 20, data: DATA.subarray(20, 30), finishWrite: true })],
    code: status.OUT_OF_RANGE, reason: 'WRONG_OFFSET', message: /continues at offset 10, not 20/,
  },
  {
    name: 'a first offset other than the committed size',
    messages: (id) => [msg({ start: start(id), offset: 5, data: DATA.subarray(0, 10) })],
    code: status.OUT_OF_RANGE, reason: 'WRONG_OFFSET', message: /continues at offset 0, not 5/,
  },
  {
    name: 'data after the final chunk',
    messages: (id) => [msg({ start: start(id), data: DATA.subarray(0, 10), finishWrite: true }), msg({ offset: 10, data: DATA.subarray(10, 20) })],
    code: status.INVALID_ARGUMENT, reason: 'DATA_AFTER_FINISH', message: /after the one with finish_write/,
  },
  {
    name: 'a chunk over the size limit',
    messages: (id) => [msg({ start: start(id), data: DATA.subarray(0, CHUNK_LIMIT + 1), finishWrite: true })],
    code: status.INVALID_ARGUMENT, reason: 'CHUNK_TOO_LARGE', message: new RegExp(`${CHUNK_LIMIT + 1} bytes; the chunk limit is ${CHUNK_LIMIT} bytes`),
  },
  {
    name: 'more bytes than the declared size',
    messages: (id) => uploadMessages(DATA, start(id, { size: 100 * KiB }), { chunk: 60 * KiB }),
    code: status.INVALID_ARGUMENT, reason: 'SIZE_EXCEEDED', message: /declared 102400 bytes but this chunk brings it to 122880/,
  },
  {
    name: 'fewer bytes than the declared size',
    messages: (id) => uploadMessages(DATA.subarray(0, 1000), start(id, { size: 2000 })),
    code: status.INVALID_ARGUMENT, reason: 'SIZE_MISMATCH', message: /declared 2000 bytes but 1000 arrived/,
  },
  {
    name: 'bytes that do not match the declared digest',
    messages: (id) => uploadMessages(DATA, start(id, { sha256: sha256(Buffer.from('something else')) }), { chunk: 60 * KiB }),
    code: status.INVALID_ARGUMENT, reason: 'DIGEST_MISMATCH', message: new RegExp(`hash to sha256 ${DIGEST}, not the declared`),
  },
  {
    name: 'an unknown storage_name',
    messages: (id) => uploadMessages(DATA, start(id, { storageName: 'griot.tape@v1' })),
    code: status.INVALID_ARGUMENT, reason: 'UNKNOWN_STORAGE', message: /start.storage_name: unknown storage "griot.tape@v1"; configured storages: griot.file@v1/,
  },
  {
    name: 'a malformed upload_id',
    messages: () => uploadMessages(DATA, start('not-a-uuid')),
    code: status.INVALID_ARGUMENT, reason: 'INVALID_UUID', message: /start.upload_id: is not a UUID: "not-a-uuid"/,
  },
  {
    name: 'a malformed sha256',
    messages: (id) => uploadMessages(DATA, start(id, { sha256: 'ABC' })),
    code: status.INVALID_ARGUMENT, reason: 'INVALID_SHA256', message: /start.sha256: is not a SHA-256 digest/,
  },
  {
    name: 'a negative size',
    messages: (id) => uploadMessages(DATA, start(id, { size: -1 })),
    code: status.INVALID_ARGUMENT, reason: 'INVALID_SIZE', message: /start.size: must be a non-negative number of bytes, not -1/,
  },
];

const VALUE = content.SerializerType.SERIALIZER_TYPE_VALUE;
const spec = (key: string, extra: Partial<content.ContentSpec> = {}): content.ContentSpec => ({
  contentKey: key,
  contentType: 'text/plain',
  contentEncoding: '',
  serializerName: 'labox.text@v1',
  serializerConfig: {},
  serializerType: VALUE,
  storageName: '',
  source: { $case: 'inlineValue', inlineValue: Buffer.from(`value of ${key}`) },
  ...extra,
});

interface ManifestCase {
  name: string;
  request: Partial<content.CreateManifestRequest>;
  reason: string;
  message: RegExp;
}

// "Tags that are not a JSON object" cannot reach the server: tags is a
// google.protobuf.Struct, whose wire form is always a map (bytes of another
// shape decode as unknown fields of an empty Struct). What can be wrong
// inside a Struct is tested here (non-finite numbers, NUL characters, depth;
// a Value with no kind is dropped by the generated decoder); the domain's object check itself is unit-tested in
// packages/server-kit/src/validators.test.ts.
const deep = (n: number): Record<string, unknown> => (n === 0 ? { leaf: true } : { d: deep(n - 1) });
const MANIFEST_CASES: ManifestCase[] = [
  { name: 'a missing class_id', request: { classId: '' }, reason: 'MISSING_FIELD', message: /class_id: is required/ },
  { name: 'a malformed class_id', request: { classId: '1234' }, reason: 'INVALID_UUID', message: /class_id: is not a UUID: "1234"/ },
  { name: 'a missing unpacker_name', request: { unpackerName: '' }, reason: 'MISSING_FIELD', message: /unpacker_name: is required/ },
  { name: 'a tag that is not a finite number', request: { tags: { ratio: Number.NaN } }, reason: 'INVALID_JSON_VALUE', message: /tags.ratio: is NaN; JSON numbers must be finite/ },
  { name: 'a tag with a NUL character', request: { tags: { s: 'a\u0000b' } }, reason: 'INVALID_JSON_VALUE', message: /tags.s: contains a NUL character/ },
  { name: 'tags nested too deep', request: { tags: deep(20) }, reason: 'JSON_TOO_DEEP', message: /nests deeper than 16 levels/ },
  { name: 'a content_key twice', request: { contents: [spec('a'), spec('b'), spec('a')] }, reason: 'DUPLICATE_CONTENT_KEY', message: /contents\[2\].content_key: "a" appears more than once/ },
  { name: 'an empty content_key', request: { contents: [spec('')] }, reason: 'MISSING_FIELD', message: /contents\[0\].content_key: is required/ },
  { name: 'an unknown storage_name', request: { contents: [spec('a', { storageName: 'griot.tape@v1' })] }, reason: 'UNKNOWN_STORAGE', message: /contents\[0\].storage_name: unknown storage "griot.tape@v1"; configured storages: griot.file@v1/ },
  { name: 'an unspecified serializer_type', request: { contents: [spec('a', { serializerType: 0 })] }, reason: 'INVALID_SERIALIZER_TYPE', message: /contents\[0\].serializer_type: must be SERIALIZER_TYPE_VALUE or SERIALIZER_TYPE_STREAM, not 0/ },
  { name: 'a serializer_config with Infinity', request: { contents: [spec('a', { serializerConfig: { x: Number.POSITIVE_INFINITY } })] }, reason: 'INVALID_JSON_VALUE', message: /contents\[0\].serializer_config.x: is Infinity/ },
  { name: 'no source', request: { contents: [spec('a', { source: undefined })] }, reason: 'MISSING_SOURCE', message: /contents\[0\]: set blob_sha256 or inline_value/ },
  { name: 'a malformed blob_sha256', request: { contents: [spec('a', { source: { $case: 'blobSha256', blobSha256: 'xyz' } })] }, reason: 'INVALID_SHA256', message: /contents\[0\].blob_sha256: is not a SHA-256 digest/ },
  { name: 'an inline value over the limit', request: { contents: [spec('a', { source: { $case: 'inlineValue', inlineValue: Buffer.alloc(KiB + 1) } })] }, reason: 'INLINE_VALUE_TOO_LARGE', message: /contents\[0\].inline_value: is 1025 bytes; inline values hold at most 1024 bytes/ },
];

describe.each(DB_KINDS)('content store bad input on %s', (kind) => {
  let t: TestContentStore;
  beforeAll(async () => {
    t = await startTestContentStore(kind, { CONTENT_MAX_CHUNK_BYTES: `${CHUNK_LIMIT}`, CONTENT_INLINE_VALUE_MAX_BYTES: '1KiB', CONTENT_UPLOAD_SYNC_BYTES: '16KiB' });
  });
  afterAll(() => t.close());

  const staged = () => readdir(join(t.dataDir, 'content-store', 'blobs', 'uploads')).catch(() => [] as string[]);
  const missing = async (digests: string[]) => (await unary(t.client, 'findMissingBlobs', { storageName: '', sha256: digests })).missingSha256;

  describe('UploadBlob', () => {
    it.each(UPLOAD_CASES)('rejects $name', async ({ messages, code, reason, message }) => {
      const uploadId = randomUUID();
      const f = await expectFailure(upload(t.client, messages(uploadId)));
      expect({ code: f.code, reason: f.reason }).toEqual({ code, reason });
      expect(f.message).toMatch(message);
      // Nothing behind: no record, no staged bytes, no blob.
      expect(failure(await unary(t.client, 'getUploadStatus', { uploadId }).catch((e: unknown) => e)).code).toBe(status.NOT_FOUND);
      expect(await staged()).toEqual([]);
      expect(await missing([DIGEST, sha256(DATA.subarray(0, 10)), sha256(DATA.subarray(0, 1000))])).toHaveLength(3);
    });

    it('rolls a resumed upload back to its committed size when a later stream is bad', async () => {
      const uploadId = randomUUID();
      await upload(t.client, uploadMessages(DATA.subarray(0, 50 * KiB), start(uploadId), { finish: false }));
      const f = await expectFailure(upload(t.client, [msg({ start: start(uploadId), offset: 50 * KiB, data: DATA.subarray(50 * KiB, 90 * KiB) }), msg({ offset: 50 * KiB, data: DATA.subarray(0, 10) })]));
      expect(f.reason).toBe('WRONG_OFFSET');
      expect((await unary(t.client, 'getUploadStatus', { uploadId })).committedSize).toBe(50 * KiB);
      const done = await upload(t.client, uploadMessages(DATA.subarray(50 * KiB), start(uploadId), { offset: 50 * KiB, chunk: 60 * KiB }));
      expect(done.blob!.sha256).toBe(DIGEST);
    });

    it('rejects a resume that changes the declared digest', async () => {
      const uploadId = randomUUID();
      await upload(t.client, uploadMessages(DATA.subarray(0, 10), start(uploadId, { sha256: sha256(Buffer.from('declared')) }), { finish: false }));
      const f = await expectFailure(upload(t.client, [msg({ start: start(uploadId, { sha256: sha256(Buffer.from('x')) }), offset: 10 })]));
      expect(f).toMatchObject({ code: status.FAILED_PRECONDITION, reason: 'UPLOAD_PARAMETERS_CHANGED' });
    });

    it('refuses a message far over the limit at the transport with RESOURCE_EXHAUSTED', async () => {
      const uploadId = randomUUID();
      const f = await expectFailure(upload(t.client, [msg({ start: start(uploadId), data: Buffer.alloc(CHUNK_LIMIT + 256 * KiB), finishWrite: true })]));
      expect(f.code).toBe(status.RESOURCE_EXHAUSTED);
      expect(f.message).toMatch(/larger than max/);
      expect(await staged()).not.toContain(uploadId);
      expect(failure(await unary(t.client, 'getUploadStatus', { uploadId }).catch((e: unknown) => e)).code).toBe(status.NOT_FOUND);
    });

    it('commits nothing when the client cancels mid-upload', async () => {
      const data = bytesOf(100 * KiB, 53);
      const err = await new Promise<unknown>((resolve) => {
        const call = t.client.uploadBlob((e) => resolve(e));
        call.write(msg({ start: start(randomUUID(), { sha256: sha256(data) }), data: data.subarray(0, 30 * KiB) }));
        setTimeout(() => call.cancel(), 100);
      });
      expect(failure(err).code).toBe(status.CANCELLED);
      await sleep(100);
      expect(await missing([sha256(data)])).toEqual([sha256(data)]);
    });
  });

  describe('CreateManifest', () => {
    it.each(MANIFEST_CASES)('rejects $name with INVALID_ARGUMENT', async ({ request, reason, message }) => {
      const classId = randomUUID();
      const f = await expectFailure(unary(t.client, 'createManifest', { classId, unpackerName: 'u@v1', tags: {}, contents: [spec('ok')], manifestId: '', ...request }));
      expect({ code: f.code, reason: f.reason }).toEqual({ code: status.INVALID_ARGUMENT, reason });
      expect(f.message).toMatch(message);
      const page = await unary(t.client, 'listManifests', { tags: undefined, classId, createdAfter: undefined, createdBefore: undefined, pageSize: 0, pageToken: '' });
      expect(page.manifests).toEqual([]);
    });
  });

  describe('ids, pages and reads', () => {
    const BAD_UUIDS = ['', 'nope', '123e4567-e89b-12d3-a456-42661417400', '123e4567-e89b-12d3-a456-42661417400g'];
    it.each(BAD_UUIDS)('rejects the malformed UUID %j in every call that takes one', async (bad) => {
      const reason = bad === '' ? 'MISSING_FIELD' : 'INVALID_UUID';
      // Made one at a time: a call made early would fail unobserved while an earlier one is awaited.
      const calls: [string, () => Promise<unknown>][] = [
        ['id', () => unary(t.client, 'getManifest', { id: bad })],
        ['id', () => unary(t.client, 'deleteManifest', { id: bad })],
        ['upload_id', () => unary(t.client, 'getUploadStatus', { uploadId: bad })],
        ['content_id', () => readAll(t.client, { target: { $case: 'contentId', contentId: bad } }).then((r) => Promise.reject(r.error))],
        ['content_ref.manifest_id', () => readAll(t.client, { target: { $case: 'contentRef', contentRef: { manifestId: bad, contentKey: 'k' } } }).then((r) => Promise.reject(r.error))],
      ];
      for (const [field, call] of calls) {
        const f = await expectFailure(call());
        expect({ field, code: f.code, reason: f.reason }).toEqual({ field, code: status.INVALID_ARGUMENT, reason });
        expect(f.message.startsWith(`${field}: `)).toBe(true);
      }
      if (bad !== '') {
        const f = await expectFailure(unary(t.client, 'listManifests', { tags: undefined, classId: bad, createdAfter: undefined, createdBefore: undefined, pageSize: 0, pageToken: '' }));
        expect(f).toMatchObject({ code: status.INVALID_ARGUMENT, reason: 'INVALID_UUID' });
      }
    });

    const listReq = (r: Partial<content.ListManifestsRequest>) =>
      unary(t.client, 'listManifests', { tags: undefined, classId: '', createdAfter: undefined, createdBefore: undefined, pageSize: 0, pageToken: '', ...r });

    it('rejects a negative page size, a garbage page token and non-finite tag filters', async () => {
      expect(await expectFailure(listReq({ pageSize: -1 }))).toMatchObject({ code: status.INVALID_ARGUMENT, reason: 'INVALID_PAGE_SIZE', message: expect.stringMatching(/page_size: .* not -1/) });
      expect(await expectFailure(listReq({ pageToken: 'garbage!' }))).toMatchObject({ code: status.INVALID_ARGUMENT, reason: 'INVALID_PAGE_TOKEN' });
      expect(await expectFailure(listReq({ tags: { x: Number.NaN } }))).toMatchObject({ code: status.INVALID_ARGUMENT, reason: 'INVALID_JSON_VALUE' });
    });

    it('rejects reads with a negative offset or limit, no target, an unknown storage, or past the end', async () => {
      const m = (await unary(t.client, 'createManifest', { classId: randomUUID(), unpackerName: 'u@v1', tags: {}, contents: [spec('k')], manifestId: '' })).manifest!;
      const target = { $case: 'contentId' as const, contentId: m.contents[0]!.id };
      const size = m.contents[0]!.contentSize;
      const cases: [Partial<content.ReadContentRequest>, status, string, RegExp][] = [
        [{ target, offset: -1 }, status.INVALID_ARGUMENT, 'INVALID_OFFSET', /offset: must be a non-negative byte offset, not -1/],
        [{ target, limit: -5 }, status.INVALID_ARGUMENT, 'INVALID_LIMIT', /limit: .* not -5/],
        [{}, status.INVALID_ARGUMENT, 'MISSING_TARGET', /names nothing to read/],
        [{ target: { $case: 'blob', blob: { sha256: m.contents[0]!.contentHash, storageName: 'griot.tape@v1' } } }, status.INVALID_ARGUMENT, 'UNKNOWN_STORAGE', /blob.storage_name: unknown storage/],
        [{ target: { $case: 'blob', blob: { sha256: 'abc', storageName: '' } } }, status.INVALID_ARGUMENT, 'INVALID_SHA256', /blob.sha256/],
        [{ target, offset: size + 1 }, status.OUT_OF_RANGE, 'OFFSET_PAST_END', new RegExp(`${size + 1} is past the end of the ${size}-byte content`)],
        [{ target: { $case: 'contentId', contentId: randomUUID() } }, status.NOT_FOUND, 'CONTENT_NOT_FOUND', /was not found/],
        [{ target: { $case: 'contentRef', contentRef: { manifestId: m.id, contentKey: 'nope' } } }, status.NOT_FOUND, 'CONTENT_NOT_FOUND', /has no content "nope"/],
      ];
      for (const [request, code, reason, message] of cases) {
        const { error, data } = await readAll(t.client, request);
        expect(data.length).toBe(0);
        const f = failure(error);
        expect({ code: f.code, reason: f.reason }).toEqual({ code, reason });
        expect(f.message).toMatch(message);
      }
    });

    it('rejects malformed digests and unknown storages in FindMissingBlobs and GetBlob', async () => {
      expect(await expectFailure(unary(t.client, 'findMissingBlobs', { storageName: '', sha256: [DIGEST, 'zz'] }))).toMatchObject({
        code: status.INVALID_ARGUMENT, reason: 'INVALID_SHA256', message: expect.stringMatching(/^sha256\[1\]: /),
      });
      expect(await expectFailure(unary(t.client, 'findMissingBlobs', { storageName: 'griot.tape@v1', sha256: [DIGEST] }))).toMatchObject({ code: status.INVALID_ARGUMENT, reason: 'UNKNOWN_STORAGE' });
      expect(await expectFailure(unary(t.client, 'getBlob', { sha256: 'zz', storageName: '' }))).toMatchObject({ code: status.INVALID_ARGUMENT, reason: 'INVALID_SHA256' });
    });
  });
});
