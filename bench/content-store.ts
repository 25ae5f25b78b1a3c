/**
 * Content store benchmarks, measured side by side in one run:
 * - UploadBlob of 1 GiB to the file storage, against a bare grpc-js
 *   client-streaming sink that only discards the same chunks (target ≥ 80%);
 * - ReadContent of the same object, against a bare grpc-js server-streaming
 *   source sending the same number of bytes (target ≥ 80%);
 * - the same bytes uploaded to a tus server (@tus/server + @tus/file-store)
 *   (target: faster than tus);
 * - server RSS growth during a 2 GiB upload, with the content store in its
 *   own process (target < 64 MiB).
 * Throughputs are measured with client and server in this process, for the
 * content store and its baselines alike. Runnable alone:
 * `pnpm exec tsx bench/content-store.ts`; `BENCH_SCALE=0.1` shrinks the sizes.
 */
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, request as httpRequest, type Server as HttpServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import {
  credentials,
  Server,
  ServerCredentials,
  type sendUnaryData,
  type ServerReadableStream,
  type ServerWritableStream,
} from '@grpc/grpc-js';
import { content } from '@griot/proto';
import { silentLogger } from '@griot/server-kit';
import { readContentStoreConfig, startContentStore } from '../services/content-store/src';
import { formatTable, type BenchRow } from './report';

const MiB = 1024 * 1024;
const SCALE = Number(process.env.BENCH_SCALE ?? '1');
const CHUNK = MiB;
const UPLOAD_BYTES = Math.max(CHUNK, Math.round((1024 * SCALE)) * MiB);
const RSS_UPLOAD_BYTES = Math.max(CHUNK, Math.round(2048 * SCALE) * MiB);
const GRPC_OPTIONS = { 'grpc.max_receive_message_length': 8 * MiB, 'grpc.max_send_message_length': 8 * MiB };

/** The chunks of a synthetic object: a random first chunk (a fresh digest each run), then a few random buffers in turn. */
function chunksOf(total: number): { chunk(i: number): Buffer; count: number; sha256: string } {
  const pool = [randomBytes(CHUNK), randomBytes(CHUNK), randomBytes(CHUNK), randomBytes(CHUNK)];
  const first = randomBytes(CHUNK);
  const count = Math.ceil(total / CHUNK);
  const chunk = (i: number) => {
    const full = i === 0 ? first : pool[i % pool.length]!;
    const size = Math.min(CHUNK, total - i * CHUNK);
    return size === CHUNK ? full : full.subarray(0, size);
  };
  const hash = createHash('sha256');
  for (let i = 0; i < count; i++) hash.update(chunk(i));
  return { chunk, count, sha256: hash.digest('hex') };
}

function mibPerSecond(bytes: number, ms: number): number {
  return bytes / MiB / (ms / 1000);
}

/** Streams an object's chunks on an UploadBlob call and resolves with the response and the time taken. */
function uploadThrough(client: content.ContentServiceClient, object: ReturnType<typeof chunksOf>, total: number): Promise<{ ms: number; res: content.UploadBlobResponse }> {
  const started = performance.now();
  return new Promise((resolvePromise, reject) => {
    const call = client.uploadBlob((err, res) => (err ? reject(err) : resolvePromise({ ms: performance.now() - started, res: res! })));
    void (async () => {
      for (let i = 0; i < object.count; i++) {
        const message: content.UploadBlobRequest = {
          start: i === 0 ? { uploadId: '', storageName: 'griot.file@v1', sha256: object.sha256, size: total } : undefined,
          offset: i * CHUNK,
          data: object.chunk(i),
          finishWrite: i === object.count - 1,
        };
        if (!call.write(message)) await new Promise((r) => call.once('drain', r));
      }
      call.end();
    })();
  });
}

/** Reads a ReadContent stream to its end and resolves with the bytes and time. */
function downloadThrough(client: content.ContentServiceClient, request: content.ReadContentRequest): Promise<{ ms: number; bytes: number }> {
  const started = performance.now();
  return new Promise((resolvePromise, reject) => {
    let bytes = 0;
    const call = client.readContent(request);
    call.on('data', (m: content.ReadContentResponse) => (bytes += m.data.length));
    call.on('error', reject);
    call.on('end', () => resolvePromise({ ms: performance.now() - started, bytes }));
  });
}

/** A bare grpc-js server with the same service definition: UploadBlob discards, ReadContent sends `total` bytes from memory. */
async function startBareServer(total: number): Promise<{ address: string; stop(): Promise<void> }> {
  const server = new Server(GRPC_OPTIONS);
  const source = randomBytes(CHUNK);
  server.addService(content.ContentServiceService, {
    uploadBlob(call: ServerReadableStream<content.UploadBlobRequest, content.UploadBlobResponse>, callback: sendUnaryData<content.UploadBlobResponse>) {
      let bytes = 0;
      call.on('data', (m: content.UploadBlobRequest) => (bytes += m.data.length));
      call.on('end', () => callback(null, { uploadId: '', committedSize: bytes, complete: true, deduplicated: false, blob: undefined }));
    },
    readContent(call: ServerWritableStream<content.ReadContentRequest, content.ReadContentResponse>) {
      void (async () => {
        for (let offset = 0; offset < total; offset += CHUNK) {
          const data = source.subarray(0, Math.min(CHUNK, total - offset));
          if (!call.write({ offset, data, totalSize: total })) await new Promise((r) => call.once('drain', r));
        }
        call.end();
      })();
    },
  } as never);
  const port = await new Promise<number>((res, rej) => server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (e, p) => (e ? rej(e) : res(p))));
  return { address: `127.0.0.1:${port}`, stop: () => new Promise((r) => server.tryShutdown(() => r())) };
}

/** Uploads the object to a tus server: one creation POST, then one streamed PATCH. */
async function tusUpload(object: ReturnType<typeof chunksOf>, total: number): Promise<number> {
  const { Server: TusServer } = await import('@tus/server');
  const { FileStore } = await import('@tus/file-store');
  const directory = await mkdtemp(join(tmpdir(), 'griot-bench-tus-'));
  const tus = new TusServer({ path: '/files', datastore: new FileStore({ directory }) });
  const http: HttpServer = createServer((req, res) => void tus.handle(req, res));
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
  const port = (http.address() as { port: number }).port;
  const send = (method: string, path: string, headers: Record<string, string | number>, body?: () => AsyncGenerator<Buffer>) =>
    new Promise<{ status: number; location?: string }>((resolvePromise, reject) => {
      const req = httpRequest({ host: '127.0.0.1', port, method, path, headers: { 'Tus-Resumable': '1.0.0', ...headers } }, (res) => {
        res.resume();
        res.on('end', () => resolvePromise({ status: res.statusCode ?? 0, location: res.headers.location }));
      });
      req.on('error', reject);
      if (!body) return void req.end();
      void (async () => {
        for await (const chunk of body()) if (!req.write(chunk)) await new Promise((r) => req.once('drain', r));
        req.end();
      })();
    });
  try {
    const started = performance.now();
    const created = await send('POST', '/files', { 'Upload-Length': total, 'Content-Length': 0 });
    if (created.status !== 201 || !created.location) throw new Error(`tus creation answered ${created.status}`);
    const path = new URL(created.location, `http://127.0.0.1:${port}`).pathname;
    const patched = await send('PATCH', path, { 'Upload-Offset': 0, 'Content-Type': 'application/offset+octet-stream', 'Content-Length': total }, async function* () {
      for (let i = 0; i < object.count; i++) yield object.chunk(i);
    });
    if (patched.status !== 204) throw new Error(`tus PATCH answered ${patched.status}`);
    return performance.now() - started;
  } finally {
    await new Promise((r) => http.close(r));
    await rm(directory, { recursive: true, force: true });
  }
}

async function rssOf(pid: number): Promise<number> {
  const text = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(text)?.[1] ?? 0) * 1024;
}

/** Starts the content store as a process, uploads `total` bytes, and answers its RSS growth (peak minus before). */
async function rssGrowth(dataDir: string, total: number): Promise<{ growth: number; ms: number }> {
  const main = resolve(__dirname, '../services/content-store/src/main.ts');
  const child = spawn(process.execPath, ['--import', 'tsx', main], {
    cwd: resolve(__dirname, '..'),
    env: { ...process.env, CONTENT_LISTEN: '127.0.0.1:0', GRIOT_DATA_DIR: join(dataDir, 'rss'), LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const address = await new Promise<string>((resolvePromise, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      try {
        const entry = JSON.parse(line) as { msg?: string; address?: string };
        if (entry.msg === 'content store listening' && entry.address) resolvePromise(entry.address);
      } catch {
        // not JSON
      }
    });
    child.on('exit', (code) => reject(new Error(`content store exited with ${code}`)));
  });
  const client = new content.ContentServiceClient(address, credentials.createInsecure(), GRPC_OPTIONS);
  try {
    // Warm up: one small upload so that lazily loaded code is in before measuring.
    await uploadThrough(client, chunksOf(4 * MiB), 4 * MiB);
    await new Promise((r) => setTimeout(r, 200));
    const before = await rssOf(child.pid!);
    let peak = before;
    const sampler = setInterval(() => void rssOf(child.pid!).then((v) => (peak = Math.max(peak, v)), () => undefined), 25);
    const object = chunksOf(total);
    const { ms } = await uploadThrough(client, object, total);
    clearInterval(sampler);
    peak = Math.max(peak, await rssOf(child.pid!));
    return { growth: peak - before, ms };
  } finally {
    client.close();
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
  }
}

/** Runs the content store benchmarks. */
export async function benchContentStore(): Promise<BenchRow[]> {
  const dataDir = await mkdtemp(join(tmpdir(), 'griot-bench-content-'));
  const log = (line: string) => process.stderr.write(`content-store bench: ${line}\n`);
  const rows: BenchRow[] = [];
  try {
    const config = readContentStoreConfig({ ...process.env, CONTENT_LISTEN: '127.0.0.1:0', GRIOT_DATA_DIR: dataDir, LOG_LEVEL: 'silent' });
    const store = await startContentStore(config, silentLogger(), { manualSweep: true });
    const bare = await startBareServer(UPLOAD_BYTES);
    const storeClient = new content.ContentServiceClient(store.address, credentials.createInsecure(), GRPC_OPTIONS);
    const bareClient = new content.ContentServiceClient(bare.address, credentials.createInsecure(), GRPC_OPTIONS);
    try {
      const sizeMiB = UPLOAD_BYTES / MiB;
      // Warm both paths once, then alternate baseline and store twice and keep
      // the best of each: the machine is shared, so single runs are noisy.
      await uploadThrough(bareClient, chunksOf(8 * MiB), 8 * MiB);
      await uploadThrough(storeClient, chunksOf(8 * MiB), 8 * MiB);
      let object = chunksOf(UPLOAD_BYTES);
      let sinkMs = Infinity;
      let upMs = Infinity;
      for (let round = 0; round < 2; round++) {
        log(`round ${round + 1}: uploading ${sizeMiB} MiB to a bare sink, then to the content store (file storage)`);
        sinkMs = Math.min(sinkMs, (await uploadThrough(bareClient, object, UPLOAD_BYTES)).ms);
        // A fresh object each round: the same digest again would be deduplicated.
        if (round > 0) object = chunksOf(UPLOAD_BYTES);
        const up = await uploadThrough(storeClient, object, UPLOAD_BYTES);
        if (up.res.blob?.sha256 !== object.sha256 || up.res.deduplicated) throw new Error('the content store did not commit the bytes sent');
        upMs = Math.min(upMs, up.ms);
      }
      rows.push({
        name: `UploadBlob ${sizeMiB} MiB, file storage`,
        value: mibPerSecond(UPLOAD_BYTES, upMs),
        unit: 'MiB/s',
        baseline: { name: 'bare grpc-js sink', value: mibPerSecond(UPLOAD_BYTES, sinkMs) },
        target: '≥ 80% of baseline',
        met: upMs <= sinkMs / 0.8,
      });

      const readRequest: content.ReadContentRequest = { target: { $case: 'blob', blob: { sha256: object.sha256, storageName: '' } }, offset: 0, limit: 0 };
      const bareRequest: content.ReadContentRequest = { target: undefined, offset: 0, limit: 0 };
      let sourceMs = Infinity;
      let downMs = Infinity;
      for (let round = 0; round < 2; round++) {
        log(`round ${round + 1}: downloading ${sizeMiB} MiB from a bare source, then from the content store`);
        sourceMs = Math.min(sourceMs, (await downloadThrough(bareClient, bareRequest)).ms);
        const down = await downloadThrough(storeClient, readRequest);
        if (down.bytes !== UPLOAD_BYTES) throw new Error(`read ${down.bytes} bytes of ${UPLOAD_BYTES}`);
        downMs = Math.min(downMs, down.ms);
      }
      rows.push({
        name: `ReadContent ${sizeMiB} MiB, whole (verified)`,
        value: mibPerSecond(UPLOAD_BYTES, downMs),
        unit: 'MiB/s',
        baseline: { name: 'bare grpc-js source', value: mibPerSecond(UPLOAD_BYTES, sourceMs) },
        target: '≥ 80% of baseline',
        met: downMs <= sourceMs / 0.8,
      });

      log(`uploading ${sizeMiB} MiB to tus`);
      let tusMs = Infinity;
      for (let round = 0; round < 2; round++) tusMs = Math.min(tusMs, await tusUpload(object, UPLOAD_BYTES));
      rows.push({
        name: `UploadBlob ${sizeMiB} MiB vs tus`,
        value: mibPerSecond(UPLOAD_BYTES, upMs),
        unit: 'MiB/s',
        baseline: { name: '@tus/server + file-store (best of 2)', value: mibPerSecond(UPLOAD_BYTES, tusMs) },
        target: '> 100% of baseline',
        met: upMs < tusMs,
      });
    } finally {
      storeClient.close();
      bareClient.close();
      await bare.stop();
      await store.stop(1000);
    }

    log(`uploading ${RSS_UPLOAD_BYTES / MiB} MiB to a content store process, sampling its RSS`);
    const rss = await rssGrowth(dataDir, RSS_UPLOAD_BYTES);
    rows.push({
      name: `server RSS growth, ${RSS_UPLOAD_BYTES / MiB} MiB upload (${mibPerSecond(RSS_UPLOAD_BYTES, rss.ms).toFixed(0)} MiB/s)`,
      value: rss.growth / MiB,
      unit: 'MiB',
      target: '< 64 MiB',
      met: rss.growth < 64 * MiB,
    });
    return rows;
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
}

if (require.main === module) {
  benchContentStore().then(
    (rows) => process.stdout.write(`\n${formatTable(rows)}\n`),
    (err: unknown) => {
      process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exit(1);
    },
  );
}
