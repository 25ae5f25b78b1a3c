/**
 * The content store killed (SIGKILL) in the middle of an upload: no partial
 * blob or content record is ever visible (through the API or in the
 * database), and after a restart on the same database and data folder the
 * client asks how much was committed, resumes from there, and the stored
 * blob hashes to what it sent.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { credentials, type ServiceError } from '@grpc/grpc-js';
import { content } from '@griot/proto';
import pg from 'pg';
import { createPostgresDatabase } from '@griot/test/support/database';
import { describeIf, postgresKind } from '@griot/test/support/tools';
import { callerAuth, CONTENT_AUDIENCE, newIdentity } from '@griot/test/support/fixtures';
import { killTree } from '@griot/test/support/kill-tree';
import { startServiceProcess, type ServiceProcess } from '@griot/test/support/process';

const MiB = 1024 * 1024;
const TOTAL = 12 * MiB;
const CHUNK = 256 * 1024;
const NOT_FOUND = 5;

/** Calls a unary ContentService method as a promise. */
function call<Req, Res>(client: content.ContentServiceClient, method: 'getUploadStatus' | 'getBlob' | 'findMissingBlobs', request: Req): Promise<Res> {
  const fn = client[method] as unknown as (req: Req, cb: (err: ServiceError | null, res: Res) => void) => unknown;
  return new Promise((resolve, reject) => fn.call(client, request, (err, res) => (err ? reject(err) : resolve(res))));
}

/** The code a call failed with, or 0. */
async function codeOf(promise: Promise<unknown>): Promise<number> {
  return promise.then(
    () => 0,
    (err: ServiceError) => err.code,
  );
}

/** Every file name under `dir`. */
function fileNames(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true }).filter((e) => e.isFile()).map((e) => e.name);
}

/** Waits until `check` returns a value, polling. */
async function until<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describeIf([postgresKind()])('content store killed in the middle of an upload', () => {
  let database: { url: string; drop(): Promise<void> };
  let dataDir: string;
  let service: ServiceProcess | undefined;
  let sql: pg.Client;
  const env = (): NodeJS.ProcessEnv => ({
    CONTENT_DATABASE_URL: database.url,
    GRIOT_DATA_DIR: dataDir,
    CONTENT_UPLOAD_SYNC_BYTES: '1MiB',
  });

  beforeAll(async () => {
    database = await createPostgresDatabase();
    dataDir = mkdtempSync(join(tmpdir(), 'griot-fault-content-'));
    sql = new pg.Client({ connectionString: database.url });
    await sql.connect();
  });

  afterAll(async () => {
    if (service) await killTree(service.child);
    await sql?.end();
    await database?.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('never shows a partial blob, and the client resumes from the committed size after a restart', async () => {
    const uploader = newIdentity();
    service = await startServiceProcess('content-store', env());
    let client = new content.ContentServiceClient(service.address, credentials.createInsecure());
    const bytes = randomBytes(TOTAL);
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    const uploadId = randomUUID();
    const start = { uploadId, storageName: '', sha256, size: TOTAL };

    // Stream about half the bytes and keep the stream open, as a client in the middle of its upload.
    const firstCall = new Promise<ServiceError | undefined>((resolve) => {
      const stream = client.uploadBlob(callerAuth(uploader, CONTENT_AUDIENCE), (err) => resolve(err ?? undefined));
      void (async () => {
        for (let offset = 0; offset < TOTAL / 2; offset += CHUNK) {
          const ok = stream.write({ start: offset === 0 ? start : undefined, offset, data: bytes.subarray(offset, offset + CHUNK), finishWrite: false });
          if (!ok) await new Promise((r) => stream.once('drain', r));
        }
      })();
    });
    const committedBeforeKill = await until('some bytes committed', async () => {
      const status = await call<content.GetUploadStatusRequest, content.GetUploadStatusResponse>(client, 'getUploadStatus', { uploadId }).catch(() => undefined);
      return status && status.committedSize > 0 ? status.committedSize : undefined;
    });
    expect(await codeOf(call(client, 'getBlob', { sha256, storageName: '' }))).toBe(NOT_FOUND);

    await killTree(service.child);
    service = undefined;
    const streamError = await firstCall;
    expect(streamError).toBeDefined();
    client.close();

    // While it is down: the upload session is there, but no blob, no content, no blob file.
    const blobRows = () => sql.query('SELECT sha256 FROM content_blobs WHERE sha256 = $1', [sha256]).then((r) => r.rowCount);
    const contentRows = () => sql.query('SELECT id FROM labox_contents').then((r) => r.rowCount);
    expect(await blobRows()).toBe(0);
    expect(await contentRows()).toBe(0);
    const session = await sql.query<{ committed_size: string; complete: boolean }>('SELECT committed_size, complete FROM content_uploads WHERE upload_id = $1', [uploadId]);
    expect(session.rows).toHaveLength(1);
    expect(session.rows[0]!.complete).toBe(false);
    expect(Number(session.rows[0]!.committed_size)).toBeGreaterThanOrEqual(committedBeforeKill);
    expect(fileNames(dataDir)).not.toContain(sha256);

    // Restarted on the same database and data folder.
    service = await startServiceProcess('content-store', env());
    client = new content.ContentServiceClient(service.address, credentials.createInsecure(), { 'grpc.max_receive_message_length': 64 * MiB });
    expect(await codeOf(call(client, 'getBlob', { sha256, storageName: '' }))).toBe(NOT_FOUND);
    const missing = await call<content.FindMissingBlobsRequest, content.FindMissingBlobsResponse>(client, 'findMissingBlobs', { storageName: '', sha256: [sha256] });
    expect(missing.missingSha256).toEqual([sha256]);
    const unreadable = await readWhole(client, sha256);
    expect(unreadable.error?.code).toBe(NOT_FOUND);
    expect(unreadable.data.length).toBe(0);

    const status = await call<content.GetUploadStatusRequest, content.GetUploadStatusResponse>(client, 'getUploadStatus', { uploadId });
    expect(status.complete).toBe(false);
    expect(status.committedSize).toBeGreaterThan(0);
    expect(status.committedSize).toBeLessThan(TOTAL);
    const resumeAt = status.committedSize;

    // Resume from the committed size, with the same upload id.
    const response = await new Promise<content.UploadBlobResponse>((resolve, reject) => {
      const stream = client.uploadBlob(callerAuth(uploader, CONTENT_AUDIENCE), (err, res) => (err ? reject(err) : resolve(res!)));
      void (async () => {
        for (let offset = resumeAt, first = true; offset < TOTAL; offset += CHUNK, first = false) {
          const data = bytes.subarray(offset, Math.min(offset + CHUNK, TOTAL));
          const ok = stream.write({ start: first ? start : undefined, offset, data, finishWrite: offset + data.length >= TOTAL });
          if (!ok) await new Promise((r) => stream.once('drain', r));
        }
        stream.end();
      })();
    });
    expect(response).toMatchObject({ uploadId, committedSize: TOTAL, complete: true, deduplicated: false });
    expect(response.blob).toMatchObject({ sha256, size: TOTAL });

    const blob = await call<content.GetBlobRequest, content.GetBlobResponse>(client, 'getBlob', { sha256, storageName: '' });
    expect(blob.blob).toMatchObject({ sha256, size: TOTAL });
    const found = await call<content.FindMissingBlobsRequest, content.FindMissingBlobsResponse>(client, 'findMissingBlobs', { storageName: '', sha256: [sha256] });
    expect(found.missingSha256).toEqual([]);
    const read = await readWhole(client, sha256);
    expect(read.error).toBeUndefined();
    expect(read.data.length).toBe(TOTAL);
    expect(createHash('sha256').update(read.data).digest('hex')).toBe(sha256);
    expect(read.data.equals(bytes)).toBe(true);
    expect(await blobRows()).toBe(1);
    expect(fileNames(dataDir)).toContain(sha256);
    client.close();
  }, 60_000);
});

/** Reads a whole blob with ReadContent: the bytes, and the error it ended with, if any. */
function readWhole(client: content.ContentServiceClient, sha256: string): Promise<{ data: Buffer; error?: ServiceError }> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const stream = client.readContent({ target: { $case: 'blob', blob: { sha256, storageName: '' } }, offset: 0, limit: 0 });
    stream.on('data', (m: content.ReadContentResponse) => chunks.push(Buffer.from(m.data)));
    stream.on('error', (error: ServiceError) => resolve({ data: Buffer.concat(chunks), error }));
    stream.on('end', () => resolve({ data: Buffer.concat(chunks) }));
  });
}
