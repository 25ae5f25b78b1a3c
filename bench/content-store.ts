/**
 * Content store benchmarks, measured side by side in one run:
 * - UploadBlob of 1 GiB to the file storage, against a bare grpc-js
 *   client-streaming sink that only discards the same chunks (target ≥ 80%);
 * - ReadContent of the same object, against a bare grpc-js server-streaming
 *   source sending the same number of bytes (target ≥ 80%), after one
 *   untimed read of each (the store's first read of an object written with
 *   direct I/O fills the page cache; it is shown for reference);
 * - the same bytes uploaded to a tus server (@tus/server + @tus/file-store)
 *   (target: faster than tus);
 * - server RSS growth during a 2 GiB upload (target < 64 MiB).
 * Every server under test runs in a process of its own, as deployed (the
 * content store with its default embedded database unless
 * CONTENT_DATABASE_URL is set, and its defaults otherwise: uploads fsynced
 * every 16 MiB and written with direct I/O where the file system allows); this process is the client of all of them,
 * sending the same chunks through the same clients, the ones the CLI uses:
 * `UploadBlobClient` for uploads and `contentCodecs`'s for reads. The bare
 * sink keeps grpc-js's default HTTP/2 window; a second sink with the content
 * store's window is measured for reference, to show what the store costs over
 * the transport alone. Each figure is the best of `BENCH_ROUNDS` (3) rounds,
 * the servers taking turns in each round; the load average is printed with
 * the figures, since the machine may be shared.
 * Runnable alone: `pnpm exec tsx bench/content-store.ts`; `BENCH_SCALE=0.25`
 * shrinks the sizes, `BENCH_CHUNK_MIB` sets the chunk size (1),
 * `BENCH_PROFILE_DIR` writes a CPU profile of the content store there.
 */
import { createHash, randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { credentials, Metadata } from '@grpc/grpc-js';
import { createCallerToken, generateKeyPair } from '@griot/did';
import { readContentStoreConfig } from '@griot/content-store';
import { content } from '@griot/proto';
import { contentCodecs, UploadBlobClient } from '@griot/transport';
import { cpuSecondsOf, rssOf, startServerProcess, type ServerProcess } from './content-processes';
import { formatTable, type BenchRow } from './report';

const MiB = 1024 * 1024;
const SCALE = Number(process.env.BENCH_SCALE ?? '1');
const ROUNDS = Math.max(1, Number(process.env.BENCH_ROUNDS ?? '3'));
const CHUNK = Number(process.env.BENCH_CHUNK_MIB ?? '1') * MiB;
const UPLOAD_BYTES = Math.max(CHUNK, Math.round(1024 * SCALE) * MiB);
const RSS_UPLOAD_BYTES = Math.max(CHUNK, Math.round(2048 * SCALE) * MiB);
/** The window the content store runs with here: its default CONTENT_FLOW_CONTROL_WINDOW, or the one this environment sets. */
const STORE_FLOW_WINDOW = readContentStoreConfig().CONTENT_FLOW_CONTROL_WINDOW;
const GRPC_OPTIONS = { 'grpc.max_receive_message_length': 8 * MiB, 'grpc.max_send_message_length': 8 * MiB };

type SyntheticObject = ReturnType<typeof chunksOf>;

/** The chunks of a synthetic object: a random first chunk (a fresh digest each time), then a few random buffers in turn. */
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

function loadText(): string {
  return loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
}

/**
 * Writes dirty pages out and drops the kernel's page cache, when this process
 * may (as root); answers whether it did. On this VM, once about a GiB of
 * file pages is cached, every further GiB written costs about 2 s of kernel
 * time in reclaim, whoever writes it (plain `dd` shows it), so without this
 * an upload's figure depends on how many uploads went before it. Each upload
 * (store, tus, sinks alike) starts from the same clean state.
 */
async function resetPageCache(): Promise<boolean> {
  try {
    execFileSync('sync');
    await writeFile('/proc/sys/vm/drop_caches', '3');
    return true;
  } catch {
    return false;
  }
}

/** The benchmark's uploader identity. */
const UPLOADER = generateKeyPair();

/** Metadata with a fresh caller token of the benchmark's uploader for the content store. */
function uploaderAuth(): Metadata {
  const m = new Metadata();
  m.set('authorization', `Bearer ${createCallerToken({ keyPair: UPLOADER, audience: 'griot-content' })}`);
  return m;
}

/** Streams an object's chunks on an UploadBlob call and resolves with the response and the time taken. */
function uploadThrough(client: UploadBlobClient, object: SyntheticObject, total: number): Promise<{ ms: number; res: content.UploadBlobResponse }> {
  const started = performance.now();
  return new Promise((resolvePromise, reject) => {
    // The store needs the uploader's caller token; the bare servers ignore it (the same bytes go out either way).
    const call = client.uploadBlob(uploaderAuth(), undefined, (err, res) => (err ? reject(err) : resolvePromise({ ms: performance.now() - started, res: res! })));
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

/** A finished download: time, bytes, and the CPU seconds per GiB the server and this process (the client) spent on it. */
interface Download {
  ms: number;
  bytes: number;
  serverCpu: number;
  clientCpu: number;
}

/** Reads a ReadContent stream from `server` to its end; fails unless it carried `expected` bytes. */
async function downloadThrough(client: content.ContentServiceClient, server: ServerProcess, request: content.ReadContentRequest, expected: number): Promise<Download> {
  const serverBefore = await cpuSecondsOf(server.pid);
  const clientBefore = process.cpuUsage();
  const started = performance.now();
  const bytes = await new Promise<number>((resolvePromise, reject) => {
    let received = 0;
    const call = client.readContent(request);
    call.on('data', (m: content.ReadContentResponse) => (received += m.data.length));
    call.on('error', reject);
    call.on('end', () => resolvePromise(received));
  });
  const ms = performance.now() - started;
  if (bytes !== expected) throw new Error(`ReadContent from ${server.address} sent ${bytes} bytes of ${expected}`);
  const gib = bytes / 1024 / MiB || 1;
  const clientUsed = process.cpuUsage(clientBefore);
  return { ms, bytes, serverCpu: ((await cpuSecondsOf(server.pid)) - serverBefore) / gib, clientCpu: (clientUsed.user + clientUsed.system) / 1e6 / gib };
}

/** How a download went, for the round log. */
function describeDownload(d: Download): string {
  return `${mibPerSecond(d.bytes, d.ms).toFixed(0)} MiB/s (CPU-s per GiB: server ${d.serverCpu.toFixed(2)}, client ${d.clientCpu.toFixed(2)})`;
}

/** Uploads an object to the tus server at `address`: one creation POST, then one PATCH streaming the same chunks. */
async function tusUpload(address: string, object: SyntheticObject, total: number): Promise<number> {
  const [host, port] = [address.slice(0, address.lastIndexOf(':')), Number(address.slice(address.lastIndexOf(':') + 1))];
  const send = (method: string, path: string, headers: Record<string, string | number>, body?: () => Generator<Buffer>) =>
    new Promise<{ status: number; location?: string }>((resolvePromise, reject) => {
      const req = httpRequest({ host, port, method, path, headers: { 'Tus-Resumable': '1.0.0', ...headers } }, (res) => {
        res.resume();
        res.on('end', () => resolvePromise({ status: res.statusCode ?? 0, location: res.headers.location }));
      });
      req.on('error', reject);
      if (!body) return void req.end();
      void (async () => {
        for (const chunk of body()) if (!req.write(chunk)) await new Promise((r) => req.once('drain', r));
        req.end();
      })();
    });
  const started = performance.now();
  const created = await send('POST', '/files', { 'Upload-Length': total, 'Content-Length': 0 });
  if (created.status !== 201 || !created.location) throw new Error(`tus creation answered ${created.status}`);
  const path = new URL(created.location, `http://${address}`).pathname;
  const patched = await send('PATCH', path, { 'Upload-Offset': 0, 'Content-Type': 'application/offset+octet-stream', 'Content-Length': total }, function* () {
    for (let i = 0; i < object.count; i++) yield object.chunk(i);
  });
  if (patched.status !== 204) throw new Error(`tus PATCH answered ${patched.status}`);
  return performance.now() - started;
}

/** Starts a content store process on its own data directory. */
function startContentStoreProcess(dataDir: string): Promise<ServerProcess> {
  const profileDir = process.env.BENCH_PROFILE_DIR;
  return startServerProcess(
    'services/content-store/src/main.ts',
    { CONTENT_LISTEN: '127.0.0.1:0', GRIOT_DATA_DIR: dataDir, LOG_LEVEL: 'info' },
    'content store listening',
    profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [],
  );
}

/** Uploads `total` bytes to a fresh content store process and answers its RSS growth (peak minus before). */
async function rssGrowth(dataDir: string, total: number): Promise<{ growth: number; ms: number }> {
  const server = await startContentStoreProcess(dataDir);
  const client = new UploadBlobClient(server.address);
  try {
    // Warm up: one small upload so that lazily loaded code is in before measuring.
    await uploadThrough(client, chunksOf(4 * MiB), 4 * MiB);
    await new Promise((r) => setTimeout(r, 200));
    const object = chunksOf(total);
    const before = await rssOf(server.pid);
    let peak = before;
    const sampler = setInterval(() => void rssOf(server.pid).then((v) => (peak = Math.max(peak, v)), () => undefined), 25);
    const { ms } = await uploadThrough(client, object, total);
    clearInterval(sampler);
    peak = Math.max(peak, await rssOf(server.pid));
    return { growth: peak - before, ms };
  } finally {
    client.close();
    await server.stop();
  }
}

/** Runs the content store benchmarks. */
export async function benchContentStore(): Promise<BenchRow[]> {
  const dataDir = await mkdtemp(join(tmpdir(), 'griot-bench-content-'));
  // mkdtemp makes the folder 0700; the embedded PostgreSQL runs as the postgres user when this is root.
  await chmod(dataDir, 0o755);
  const log = (line: string) => process.stderr.write(`content-store bench: ${line} (load ${loadText()})\n`);
  const loadBefore = loadText();
  const resets = await resetPageCache();
  log(resets ? 'the page cache is dropped before each upload' : 'cannot drop the page cache (not root): later uploads may pay for the pages of earlier ones');
  const rows: BenchRow[] = [];
  const servers: ServerProcess[] = [];
  try {
    const [store, bare, windowed, tus] = await Promise.all([
      startContentStoreProcess(join(dataDir, 'store')),
      startServerProcess('bench/content-bare-server.ts', { BENCH_CHUNK_BYTES: String(CHUNK) }, 'listening'),
      startServerProcess('bench/content-bare-server.ts', { BENCH_CHUNK_BYTES: String(CHUNK), BENCH_FLOW_WINDOW: String(STORE_FLOW_WINDOW) }, 'listening'),
      startServerProcess('bench/content-tus-server.ts', { BENCH_TUS_DIR: join(dataDir, 'tus') }, 'listening'),
    ]);
    servers.push(store, bare, windowed, tus);
    const storeClient = new UploadBlobClient(store.address);
    const bareClient = new UploadBlobClient(bare.address);
    const windowedClient = new UploadBlobClient(windowed.address);
    const storeReader = new contentCodecs.ContentServiceClient(store.address, credentials.createInsecure(), GRPC_OPTIONS);
    const bareReader = new contentCodecs.ContentServiceClient(bare.address, credentials.createInsecure(), GRPC_OPTIONS);
    try {
      const sizeMiB = UPLOAD_BYTES / MiB;
      const warm = chunksOf(8 * MiB);
      await uploadThrough(bareClient, warm, 8 * MiB);
      await uploadThrough(windowedClient, warm, 8 * MiB);
      await uploadThrough(storeClient, warm, 8 * MiB);
      await tusUpload(tus.address, warm, 8 * MiB);
      // The servers take turns in each round and the best of each is kept:
      // the machine is shared, so single runs are noisy.
      let sinkMs = Infinity;
      let windowedMs = Infinity;
      let upMs = Infinity;
      let tusMs = Infinity;
      let object = chunksOf(UPLOAD_BYTES);
      for (let round = 1; round <= ROUNDS; round++) {
        // A fresh object each round: the same digest again would be deduplicated.
        if (round > 1) object = chunksOf(UPLOAD_BYTES);
        log(`round ${round}/${ROUNDS}: uploading ${sizeMiB} MiB in ${CHUNK / MiB} MiB chunks to a bare sink, the content store (file storage) and tus`);
        await resetPageCache();
        sinkMs = Math.min(sinkMs, (await uploadThrough(bareClient, object, UPLOAD_BYTES)).ms);
        await resetPageCache();
        windowedMs = Math.min(windowedMs, (await uploadThrough(windowedClient, object, UPLOAD_BYTES)).ms);
        await resetPageCache();
        const up = await uploadThrough(storeClient, object, UPLOAD_BYTES);
        if (up.res.blob?.sha256 !== object.sha256 || up.res.deduplicated) throw new Error('the content store did not commit the bytes sent');
        upMs = Math.min(upMs, up.ms);
        await resetPageCache();
        tusMs = Math.min(tusMs, await tusUpload(tus.address, object, UPLOAD_BYTES));
        log(`round ${round}: sink ${mibPerSecond(UPLOAD_BYTES, sinkMs).toFixed(0)}, sink with the store's window ${mibPerSecond(UPLOAD_BYTES, windowedMs).toFixed(0)}, store ${mibPerSecond(UPLOAD_BYTES, upMs).toFixed(0)}, tus ${mibPerSecond(UPLOAD_BYTES, tusMs).toFixed(0)} MiB/s (best so far)`);
      }
      rows.push({
        name: `UploadBlob ${sizeMiB} MiB, file storage`,
        value: mibPerSecond(UPLOAD_BYTES, upMs),
        unit: 'MiB/s',
        baseline: { name: `bare grpc-js sink, best of ${ROUNDS}`, value: mibPerSecond(UPLOAD_BYTES, sinkMs) },
        target: '≥ 80% of baseline',
        met: upMs <= sinkMs / 0.8,
      });
      rows.push({
        name: `  (reference: the same, vs a sink with the store's ${STORE_FLOW_WINDOW / MiB} MiB window)`,
        value: mibPerSecond(UPLOAD_BYTES, upMs),
        unit: 'MiB/s',
        baseline: { name: `windowed grpc-js sink, best of ${ROUNDS}`, value: mibPerSecond(UPLOAD_BYTES, windowedMs) },
      });

      const readRequest: content.ReadContentRequest = { target: { $case: 'blob', blob: { sha256: object.sha256, storageName: '' } }, offset: 0, limit: 0 };
      const bareRequest: content.ReadContentRequest = { target: undefined, offset: 0, limit: UPLOAD_BYTES };
      // Uploads are written with direct I/O, so the object is not in the page
      // cache yet: its first read also fills it (and is shown for reference).
      // One untimed read of each server first, then the timed rounds read
      // warm, as a server serving an object more than once does.
      log(`first reads of ${sizeMiB} MiB: the content store (page cache cold), then the bare source (untimed warm-up)`);
      const cold = await downloadThrough(storeReader, store, readRequest, UPLOAD_BYTES);
      await downloadThrough(bareReader, bare, bareRequest, UPLOAD_BYTES);
      log(`first read: store ${describeDownload(cold)}`);
      let sourceMs = Infinity;
      let downMs = Infinity;
      for (let round = 1; round <= ROUNDS; round++) {
        log(`round ${round}/${ROUNDS}: downloading ${sizeMiB} MiB from a bare source, then from the content store`);
        const source = await downloadThrough(bareReader, bare, bareRequest, UPLOAD_BYTES);
        sourceMs = Math.min(sourceMs, source.ms);
        const down = await downloadThrough(storeReader, store, readRequest, UPLOAD_BYTES);
        downMs = Math.min(downMs, down.ms);
        log(`round ${round}: source ${describeDownload(source)}, store ${describeDownload(down)}`);
      }
      rows.push({
        name: `ReadContent ${sizeMiB} MiB, whole (verified)`,
        value: mibPerSecond(UPLOAD_BYTES, downMs),
        unit: 'MiB/s',
        baseline: { name: `bare grpc-js source, best of ${ROUNDS}`, value: mibPerSecond(UPLOAD_BYTES, sourceMs) },
        target: '≥ 80% of baseline',
        met: downMs <= sourceMs / 0.8,
      });
      rows.push({
        name: `  (reference: the first read after the upload, page cache cold)`,
        value: mibPerSecond(UPLOAD_BYTES, cold.ms),
        unit: 'MiB/s',
        baseline: { name: `bare grpc-js source, best of ${ROUNDS}`, value: mibPerSecond(UPLOAD_BYTES, sourceMs) },
      });
      rows.push({
        name: `UploadBlob ${sizeMiB} MiB vs tus`,
        value: mibPerSecond(UPLOAD_BYTES, upMs),
        unit: 'MiB/s',
        baseline: { name: `@tus/server + file-store, best of ${ROUNDS}`, value: mibPerSecond(UPLOAD_BYTES, tusMs) },
        target: '> 100% of baseline',
        met: upMs < tusMs,
      });
    } finally {
      for (const client of [storeClient, bareClient, windowedClient, storeReader, bareReader]) client.close();
      await Promise.all(servers.splice(0).map((s) => s.stop()));
    }

    log(`uploading ${RSS_UPLOAD_BYTES / MiB} MiB to a fresh content store process, sampling its RSS`);
    await resetPageCache();
    const rss = await rssGrowth(join(dataDir, 'rss'), RSS_UPLOAD_BYTES);
    rows.push({
      name: `server RSS growth, ${RSS_UPLOAD_BYTES / MiB} MiB upload (${mibPerSecond(RSS_UPLOAD_BYTES, rss.ms).toFixed(0)} MiB/s)`,
      value: rss.growth / MiB,
      unit: 'MiB',
      target: '< 64 MiB',
      met: rss.growth < 64 * MiB,
    });
    rows.push({
      name: `load average 1/5/15 min (2 cores): ${loadBefore} before, ${loadText()} after; ${CHUNK / MiB} MiB chunks; page cache ${resets ? 'dropped before each upload' : 'not dropped'}`,
      value: loadavg()[0]!,
      unit: '',
    });
    return rows;
  } finally {
    await Promise.all(servers.map((s) => s.stop()));
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
