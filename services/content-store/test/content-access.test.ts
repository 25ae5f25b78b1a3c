/**
 * Caller identity on the content store, through the real service on
 * PostgreSQL and PGlite: every token rule on every mutating RPC (UploadBlob,
 * CreateManifest, DeleteManifest), CONTENT_WRITERS, the creator recorded on
 * each manifest and creator-or-operator deletion, CONTENT_REQUIRE_READ_AUTH,
 * and client-chosen manifest ids (idempotent for their creator, race-safe).
 */
import { randomUUID } from 'node:crypto';
import { Metadata, status } from '@grpc/grpc-js';
import { createCallerToken } from '@griot/did';
import { content } from '@griot/proto';
import { DB_KINDS } from '@griot/test/support/database';
import { bytesOf, expectFailure, failure, readAll, sha256, startTestContentStore, upload, uploadMessages, type TestContentStore } from '@griot/test/support/content-store';
import { callerAuth, CONTENT_AUDIENCE, newIdentity, type Identity } from '@griot/test/support/fixtures';

const STREAM = content.SerializerType.SERIALIZER_TYPE_STREAM;

function bearer(value: string): Metadata {
  const m = new Metadata();
  m.set('authorization', value);
  return m;
}

/** Every way a caller token can be missing or wrong, with the reason the store answers. */
function badTokens(caller: Identity): [string, () => Metadata, string][] {
  const other = newIdentity();
  return [
    ['no authorization', () => new Metadata(), 'MISSING_CREDENTIALS'],
    ['not a bearer token', () => bearer('Basic dXNlcjpwYXNz'), 'MALFORMED_AUTHORIZATION'],
    ['a malformed token', () => bearer('Bearer not.a.jwt'), 'MALFORMED_TOKEN'],
    ['a token for the registry', () => callerAuth(caller, 'griot-registry'), 'WRONG_AUDIENCE'],
    [
      'an expired token',
      () => bearer(`Bearer ${createCallerToken({ keyPair: caller.keyPair, audience: CONTENT_AUDIENCE, ttlSeconds: 60, now: new Date(Date.now() - 10 * 60_000) })}`),
      'TOKEN_EXPIRED',
    ],
    [
      'a token that expired 3 s ago (within the skew, which applies to iat only)',
      () => bearer(`Bearer ${createCallerToken({ keyPair: caller.keyPair, audience: CONTENT_AUDIENCE, ttlSeconds: 60, now: new Date(Date.now() - 63_000) })}`),
      'TOKEN_EXPIRED',
    ],
    [
      'a token dated 60 s in the future',
      () => bearer(`Bearer ${createCallerToken({ keyPair: caller.keyPair, audience: CONTENT_AUDIENCE, ttlSeconds: 60, now: new Date(Date.now() + 60_000) })}`),
      'TOKEN_NOT_YET_VALID',
    ],
    ['a token living too long', () => bearer(`Bearer ${createCallerToken({ keyPair: caller.keyPair, audience: CONTENT_AUDIENCE, ttlSeconds: 3600 })}`), 'TOKEN_LIFETIME_TOO_LONG'],
    [
      "another DID's signature on the caller's claims",
      () => {
        const good = String(callerAuth(caller, CONTENT_AUDIENCE).get('authorization')[0]);
        const forged = String(callerAuth(other, CONTENT_AUDIENCE).get('authorization')[0]);
        return bearer(`${good.slice(0, good.lastIndexOf('.'))}${forged.slice(forged.lastIndexOf('.'))}`);
      },
      'BAD_SIGNATURE',
    ],
  ];
}

function spec(sha256: string): content.ContentSpec {
  return {
    contentKey: 'data',
    contentType: 'application/octet-stream',
    contentEncoding: '',
    serializerName: 'griot.bytes@v1',
    serializerConfig: undefined,
    serializerType: STREAM,
    storageName: '',
    source: { $case: 'blobSha256', blobSha256: sha256 },
  };
}

function manifestRequest(sha256: string, extra: Partial<content.CreateManifestRequest> = {}): content.CreateManifestRequest {
  return { classId: '00000000-0000-4000-8000-0000000000aa', unpackerName: 'test@v1', tags: { test: 'access' }, contents: [spec(sha256)], manifestId: '', ...extra };
}

function call<Req, Res>(client: content.ContentServiceClient, method: 'createManifest' | 'deleteManifest' | 'getManifest' | 'getBlob' | 'listManifests' | 'findMissingBlobs' | 'getUploadStatus', request: Req, metadata: Metadata): Promise<Res> {
  const fn = client[method] as unknown as (req: Req, md: Metadata, cb: (err: Error | null, res: Res) => void) => unknown;
  return new Promise((resolve, reject) => fn.call(client, request, metadata, (err, res) => (err ? reject(err) : resolve(res))));
}

function uploadWith(client: content.ContentServiceClient, data: Buffer, metadata: Metadata): Promise<content.UploadBlobResponse> {
  return new Promise((resolve, reject) => {
    const stream = client.uploadBlob(metadata, (err, res) => (err ? reject(err) : resolve(res!)));
    for (const m of uploadMessages(data, { uploadId: randomUUID() })) stream.write(m);
    stream.end();
  });
}

const createAs = (t: TestContentStore, who: Identity, req: content.CreateManifestRequest) =>
  call<content.CreateManifestRequest, content.CreateManifestResponse>(t.client, 'createManifest', req, callerAuth(who, CONTENT_AUDIENCE));
const deleteAs = (t: TestContentStore, who: Identity, id: string) =>
  call<content.DeleteManifestRequest, content.DeleteManifestResponse>(t.client, 'deleteManifest', { id }, callerAuth(who, CONTENT_AUDIENCE));

describe.each(DB_KINDS)('content store caller identity on %s', (kind) => {
  describe('with the defaults (any caller with a token writes)', () => {
    let t: TestContentStore;
    const operator = newIdentity();
    beforeAll(async () => {
      t = await startTestContentStore(kind, { CONTENT_OPERATORS: operator.did });
    });
    afterAll(() => t.close());

    // A client that adds no token of its own.
    const anonymous = () => t.clientAs(undefined);
    const mutating = (): [string, (m: Metadata) => Promise<unknown>][] => [
      ['UploadBlob', (m) => uploadWith(anonymous(), bytesOf(2048, 3), m)],
      ['CreateManifest', (m) => call(anonymous(), 'createManifest', manifestRequest('0'.repeat(64)), m)],
      ['DeleteManifest', (m) => call(anonymous(), 'deleteManifest', { id: randomUUID() }, m)],
    ];
    it.each(['UploadBlob', 'CreateManifest', 'DeleteManifest'])('%s is UNAUTHENTICATED for every bad token, and writes nothing', async (name) => {
      const make = mutating().find(([n]) => n === name)![1];
      const before = await call<content.ListManifestsRequest, content.ListManifestsResponse>(t.client, 'listManifests', content.ListManifestsRequest.fromPartial({ pageSize: 1000 }), new Metadata());
      for (const [label, metadata, reason] of badTokens(t.writer)) {
        const got = await expectFailure(make(metadata()));
        expect({ label, code: got.code, reason: got.reason }).toEqual({ label, code: status.UNAUTHENTICATED, reason });
      }
      const after = await call<content.ListManifestsRequest, content.ListManifestsResponse>(t.client, 'listManifests', content.ListManifestsRequest.fromPartial({ pageSize: 1000 }), new Metadata());
      expect(after.manifests.length).toBe(before.manifests.length);
      const missing = await call<content.FindMissingBlobsRequest, content.FindMissingBlobsResponse>(t.client, 'findMissingBlobs', { storageName: '', sha256: [sha256(bytesOf(2048, 3))] }, new Metadata());
      expect(missing.missingSha256).toHaveLength(1);
    });

    it('records the creator; only the creator or an operator deletes; others are PERMISSION_DENIED and nothing changes', async () => {
      const author = newIdentity();
      const stranger = newIdentity();
      const digest = (await upload(t.client, uploadMessages(bytesOf(4096, 11), {}))).blob!.sha256;
      const created = await createAs(t, author, manifestRequest(digest));
      expect(created.manifest?.creatorDid).toBe(author.did);
      const got = await call<content.GetManifestRequest, content.GetManifestResponse>(t.client, 'getManifest', { id: created.manifest!.id }, new Metadata());
      expect(got.manifest?.creatorDid).toBe(author.did);

      const refused = await expectFailure(deleteAs(t, stranger, created.manifest!.id));
      expect({ code: refused.code, reason: refused.reason, creator: refused.metadata['creator'] }).toEqual({ code: status.PERMISSION_DENIED, reason: 'NOT_MANIFEST_CREATOR', creator: author.did });
      expect(refused.message).toContain('CONTENT_OPERATORS');
      expect((await call<content.GetManifestRequest, content.GetManifestResponse>(t.client, 'getManifest', { id: created.manifest!.id }, new Metadata())).manifest?.id).toBe(created.manifest!.id);

      // Unknown ids are NOT_FOUND to any authenticated caller.
      expect((await expectFailure(deleteAs(t, stranger, randomUUID()))).code).toBe(status.NOT_FOUND);

      const deleted = await deleteAs(t, author, created.manifest!.id);
      expect(deleted.manifest?.id).toBe(created.manifest!.id);
      // The deletion took the bytes nothing else referenced: upload them again.
      await upload(t.client, uploadMessages(bytesOf(4096, 11), {}));
      const second = await createAs(t, author, manifestRequest(digest));
      const byOperator = await deleteAs(t, operator, second.manifest!.id);
      expect(byOperator.manifest?.creatorDid).toBe(author.did);
    });

    it('a manifest_id is idempotent for its creator, ALREADY_EXISTS for anyone else, and one of racing creations wins', async () => {
      const author = newIdentity();
      const other = newIdentity();
      const digest = (await upload(t.client, uploadMessages(bytesOf(3000, 12), {}))).blob!.sha256;
      const id = randomUUID();
      const first = await createAs(t, author, manifestRequest(digest, { manifestId: id }));
      expect({ id: first.manifest?.id, already: first.alreadyExisted, creator: first.manifest?.creatorDid }).toEqual({ id, already: false, creator: author.did });
      const again = await createAs(t, author, manifestRequest(digest, { manifestId: id.toUpperCase(), tags: { ignored: true } }));
      expect({ id: again.manifest?.id, already: again.alreadyExisted, tags: again.manifest?.tags }).toEqual({ id, already: true, tags: { test: 'access' } });
      const taken = await expectFailure(createAs(t, other, manifestRequest(digest, { manifestId: id })));
      expect({ code: taken.code, reason: taken.reason }).toEqual({ code: status.ALREADY_EXISTS, reason: 'MANIFEST_ALREADY_EXISTS' });
      const bad = await expectFailure(createAs(t, author, manifestRequest(digest, { manifestId: 'not-a-uuid' })));
      expect({ code: bad.code, reason: bad.reason }).toEqual({ code: status.INVALID_ARGUMENT, reason: 'INVALID_UUID' });

      // Racing creations of one new id by one caller: one creates, the others answer it.
      const raced = randomUUID();
      const results = await Promise.all(Array.from({ length: 6 }, () => createAs(t, author, manifestRequest(digest, { manifestId: raced }))));
      expect(results.filter((r) => !r.alreadyExisted)).toHaveLength(1);
      expect(new Set(results.map((r) => r.manifest?.id))).toEqual(new Set([raced]));
      // Racing callers: exactly one owns the id.
      const contested = randomUUID();
      const callers = [newIdentity(), newIdentity(), newIdentity()];
      const settled = await Promise.allSettled(callers.map((c) => createAs(t, c, manifestRequest(digest, { manifestId: contested }))));
      expect(settled.filter((s) => s.status === 'fulfilled')).toHaveLength(1);
      for (const s of settled) if (s.status === 'rejected') expect(failure(s.reason).code).toBe(status.ALREADY_EXISTS);
      // Deleted, the id can be created again.
      await deleteAs(t, author, id);
      expect((await createAs(t, other, manifestRequest(digest, { manifestId: id }))).manifest?.creatorDid).toBe(other.did);
    });

    it('reads stay public', async () => {
      const digest = (await upload(t.client, uploadMessages(bytesOf(1024, 13), {}))).blob!.sha256;
      const anonymous = t.clientAs(undefined);
      const blob = await call<content.GetBlobRequest, content.GetBlobResponse>(anonymous, 'getBlob', { sha256: digest, storageName: '' }, new Metadata());
      expect(blob.blob?.sha256).toBe(digest);
      const read = await readAll(anonymous, { target: { $case: 'blob', blob: { sha256: digest, storageName: '' } } });
      expect(read.error).toBeUndefined();
    });
  });

  describe('with CONTENT_WRITERS and CONTENT_REQUIRE_READ_AUTH', () => {
    let t: TestContentStore;
    const writer = newIdentity();
    const reader = newIdentity();
    beforeAll(async () => {
      t = await startTestContentStore(kind, { CONTENT_REQUIRE_READ_AUTH: 'true', CONTENT_WRITERS: writer.did });
    });
    afterAll(() => t.close());

    it('only CONTENT_WRITERS upload and create manifests; others are PERMISSION_DENIED NOT_A_CONTENT_WRITER', async () => {
      const outsider = t.client; // its identity (the harness's writer) is not in CONTENT_WRITERS
      const refusedUpload = await expectFailure(upload(outsider, uploadMessages(bytesOf(2048, 14), {})));
      expect({ code: refusedUpload.code, reason: refusedUpload.reason }).toEqual({ code: status.PERMISSION_DENIED, reason: 'NOT_A_CONTENT_WRITER' });
      expect(refusedUpload.message).toContain('CONTENT_WRITERS');
      const allowed = t.clientAs(writer);
      const digest = (await upload(allowed, uploadMessages(bytesOf(2048, 14), {}))).blob!.sha256;
      const refusedCreate = await expectFailure(call(outsider, 'createManifest', manifestRequest(digest), new Metadata()));
      expect(refusedCreate.reason).toBe('NOT_A_CONTENT_WRITER');
      const created = await call<content.CreateManifestRequest, content.CreateManifestResponse>(allowed, 'createManifest', manifestRequest(digest), new Metadata());
      expect(created.manifest?.creatorDid).toBe(writer.did);
    });

    it('every read needs a valid token, of any DID', async () => {
      const allowed = t.clientAs(writer);
      const digest = (await upload(allowed, uploadMessages(bytesOf(1500, 15), {}))).blob!.sha256;
      const created = await call<content.CreateManifestRequest, content.CreateManifestResponse>(allowed, 'createManifest', manifestRequest(digest), new Metadata());
      const id = created.manifest!.id;
      const anonymous = t.clientAs(undefined);
      const reads: [string, (client: content.ContentServiceClient, m: Metadata) => Promise<unknown>][] = [
        ['GetBlob', (c, m) => call(c, 'getBlob', { sha256: digest, storageName: '' }, m)],
        ['FindMissingBlobs', (c, m) => call(c, 'findMissingBlobs', { storageName: '', sha256: [digest] }, m)],
        ['GetUploadStatus', (c, m) => call(c, 'getUploadStatus', { uploadId: randomUUID() }, m)],
        ['GetManifest', (c, m) => call(c, 'getManifest', { id }, m)],
        ['ListManifests', (c, m) => call(c, 'listManifests', content.ListManifestsRequest.fromPartial({}), m)],
        [
          'ReadContent',
          async (c, m) => {
            const got = await new Promise<{ error?: unknown }>((resolve) => {
              const s = c.readContent({ target: { $case: 'blob', blob: { sha256: digest, storageName: '' } }, offset: 0, limit: 0 }, m);
              s.on('data', () => undefined);
              s.on('error', (error) => resolve({ error }));
              s.on('end', () => resolve({}));
            });
            if (got.error) throw got.error;
          },
        ],
      ];
      for (const [name, read] of reads) {
        const refused = await expectFailure(read(anonymous, new Metadata()));
        expect({ name, code: refused.code, reason: refused.reason }).toEqual({ name, code: status.UNAUTHENTICATED, reason: 'MISSING_CREDENTIALS' });
        const wrong = await expectFailure(read(anonymous, callerAuth(reader, 'griot-registry')));
        expect({ name, code: wrong.code, reason: wrong.reason }).toEqual({ name, code: status.UNAUTHENTICATED, reason: 'WRONG_AUDIENCE' });
        // Any DID with a valid token reads (GetUploadStatus of an unknown upload is NOT_FOUND: past authentication).
        await read(anonymous, callerAuth(reader, CONTENT_AUDIENCE)).catch((err: unknown) => expect({ name, code: failure(err).code }).toEqual({ name, code: status.NOT_FOUND }));
      }
    });
  });
});
