/**
 * Two content store replicas on one PostgreSQL database and one shared data
 * folder (a shared volume): one stream at a time writes an upload, whichever
 * replica it reaches, the sweeper of the other replica leaves it alone, and
 * when the replica writing it loses its database session the upload can be
 * resumed on the other at once.
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { credentials, status, type ClientWritableStream } from '@grpc/grpc-js';
import pg from 'pg';
import { readContentStoreConfig, startContentStore, type RunningContentStore } from '@griot/content-store';
import { content } from '@griot/proto';
import { silentLogger } from '@griot/server-kit';
import { createPostgresDatabase } from '@griot/test/support/database';
import { describeIf, postgresKind } from '@griot/test/support/tools';
import { bytesOf, expectFailure, failure, readAll, sha256, unary, upload, uploadMessages } from '@griot/test/support/content-store';
import { callerInterceptor, CONTENT_AUDIENCE, newIdentity } from '@griot/test/support/fixtures';

/** Who uploads to both replicas. */
const uploader = newIdentity();

const KiB = 1024;

describeIf([postgresKind()])('content store uploads across two replicas', () => {
  let db: { url: string; drop(): Promise<void> };
  let dataDir: string;
  let shift = 0;
  const replicas: { service: RunningContentStore; client: content.ContentServiceClient }[] = [];

  beforeAll(async () => {
    db = await createPostgresDatabase();
    dataDir = await mkdtemp(join(tmpdir(), 'griot-replicas-'));
    for (let i = 0; i < 2; i++) {
      const config = readContentStoreConfig({
        CONTENT_LISTEN: '127.0.0.1:0',
        GRIOT_DATA_DIR: dataDir,
        CONTENT_DATABASE_URL: db.url,
        CONTENT_UPLOAD_SYNC_BYTES: '64KiB',
        CONTENT_UPLOAD_TTL: '1h',
      });
      const service = await startContentStore(config, silentLogger(), { manualSweep: true, clock: () => new Date(Date.now() + shift) });
      replicas.push({ service, client: new content.ContentServiceClient(service.address, credentials.createInsecure(), { interceptors: [callerInterceptor(uploader, CONTENT_AUDIENCE)] }) });
    }
  });

  afterAll(async () => {
    for (const r of replicas) {
      r.client.close();
      await r.service.stop(1000);
    }
    await db.drop();
    await rm(dataDir, { recursive: true, force: true });
  });

  /** Opens a stream on `client`, sends the first `count` messages, and waits until `durable` bytes are recorded. */
  async function openStream(client: content.ContentServiceClient, messages: content.UploadBlobRequest[], count: number, durable: number) {
    let settle!: (err: unknown) => void;
    const ended = new Promise<unknown>((resolve) => (settle = resolve));
    const call: ClientWritableStream<content.UploadBlobRequest> = client.uploadBlob((err) => settle(err));
    for (const m of messages.slice(0, count)) call.write(m);
    const uploadId = messages[0]!.start!.uploadId;
    for (let i = 0; i < 500; i++) {
      const s = await unary(client, 'getUploadStatus', { uploadId }).catch(() => undefined);
      if ((s?.committedSize ?? 0) >= durable) break;
      await sleep(10);
    }
    return { call, ended };
  }

  /** Starts an upload of 1 MiB on `client` with a fresh id, and leaves its stream open once 256 KiB are durable. */
  async function startUpload(client: content.ContentServiceClient, seed: number) {
    const data = bytesOf(1024 * KiB, seed);
    const uploadId = randomUUID();
    const messages = uploadMessages(data, { uploadId, sha256: sha256(data), size: data.length }, { chunk: 64 * KiB });
    return { data, uploadId, first: await openStream(client, messages, 4, 256 * KiB) };
  }

  /** Resumes an upload on `client` from its committed offset, retrying while the other stream finishes, as a client does. */
  async function resume(client: content.ContentServiceClient, uploadId: string, data: Buffer): Promise<{ res: content.UploadBlobResponse; from: number }> {
    let committed = (await unary(client, 'getUploadStatus', { uploadId })).committedSize;
    for (let attempt = 0; ; attempt++) {
      try {
        const res = await upload(client, uploadMessages(data.subarray(committed), { uploadId }, { chunk: 64 * KiB, offset: committed }));
        return { res, from: committed };
      } catch (err) {
        const f = failure(err);
        if (attempt > 100 || (f.reason !== 'UPLOAD_IN_PROGRESS' && f.reason !== 'WRONG_OFFSET')) throw err;
        committed = f.reason === 'WRONG_OFFSET' ? Number(f.metadata.expectedOffset) : (await unary(client, 'getUploadStatus', { uploadId })).committedSize;
        await sleep(20);
      }
    }
  }

  it('lets one stream write an upload while the other replica refuses a second and its sweeper leaves it alone', async () => {
    const [a, b] = replicas;
    const { data, uploadId, first } = await startUpload(a!.client, 21);

    const second = await expectFailure(upload(b!.client, uploadMessages(data, { uploadId, size: data.length }, { chunk: 64 * KiB })));
    expect(second).toMatchObject({ code: status.ABORTED, reason: 'UPLOAD_IN_PROGRESS', metadata: { uploadId } });
    expect(second.message).toContain('being written by another stream');

    // Long past its expiry, the other replica's sweep still does not remove an upload being written.
    shift = 2 * 3600_000;
    try {
      expect((await b!.service.sweep()).expiredUploads).toBe(0);
    } finally {
      shift = 0;
    }
    expect((await unary(b!.client, 'getUploadStatus', { uploadId })).committedSize).toBe(256 * KiB);

    first.call.cancel();
    expect(failure(await first.ended).code).toBe(status.CANCELLED);
    const { res, from } = await resume(b!.client, uploadId, data);
    expect(from).toBeGreaterThanOrEqual(256 * KiB);
    expect(res).toMatchObject({ complete: true, committedSize: data.length, blob: { sha256: sha256(data) } });
    const read = await readAll(a!.client, { target: { $case: 'blob', blob: { sha256: sha256(data), storageName: '' } } });
    expect(read.data.equals(data)).toBe(true);
  });

  it('stops a stream whose replica lost its database session, and the other replica resumes the upload at once', async () => {
    const [a, b] = replicas;
    const { data, uploadId, first } = await startUpload(a!.client, 23);

    // The session holding the upload's lock goes, as when its process dies or its connection drops.
    const admin = new pg.Client({ connectionString: db.url });
    await admin.connect();
    try {
      const { rowCount } = await admin.query(
        "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND granted AND ((classid::bigint << 32) | objid::bigint) = hashtextextended($1, 0)",
        [`griot.content.upload:${uploadId}`],
      );
      expect(rowCount).toBe(1);
    } finally {
      await admin.end();
    }
    const stopped = failure(await first.ended);
    expect(stopped).toMatchObject({ code: status.ABORTED, reason: 'UPLOAD_LOCK_LOST' });
    expect(stopped.message).toContain('resume from the committed offset');

    const { res, from } = await resume(b!.client, uploadId, data);
    expect(from).toBe(256 * KiB);
    expect(res).toMatchObject({ complete: true, blob: { sha256: sha256(data) } });
  });
});
