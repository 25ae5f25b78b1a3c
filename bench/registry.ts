/**
 * Registry benchmarks, measured side by side in one run:
 * - GetPackage with 64 calls in flight on real PostgreSQL, against a bare
 *   grpc-js unary server answering a fixed message (target ≥ 50%);
 * - ListPackages by manifest containment over 100k packages (target p99 < 20 ms);
 * - one reporter at 5,000 lines/s with 100 watchers split across two replicas
 *   (target p99 delivery latency < 100 ms).
 * Runnable alone: `pnpm exec tsx bench/registry.ts`. `BENCH_SCALE=0.1` shrinks
 * the sizes for a quick run.
 */
import { credentials, Metadata, Server, ServerCredentials } from '@grpc/grpc-js';
import { createNodeToken, didFromKeyPair, generateKeyPair, signDocument } from '@griot/did';
import { registry } from '@griot/proto';
import { silentLogger } from '@griot/server-kit';
import { createHash, randomBytes } from 'node:crypto';
import { fork } from 'node:child_process';
import { join } from 'node:path';
import pg from 'pg';
import { readRegistryConfig, startRegistry, type RunningRegistry } from '@griot/registry';
import { formatTable, type BenchRow } from './report';

const SCALE = Number(process.env.BENCH_SCALE ?? '1');
const ADMIN_URL = process.env.GRIOT_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const C = registry.RegistryServiceClient.prototype;

async function admin(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: ADMIN_URL });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

async function freshDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `griot_bench_${randomBytes(5).toString('hex')}`;
  await admin(`CREATE DATABASE ${name}`);
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  return { url: url.toString(), drop: () => admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) };
}

async function startReplica(url: string): Promise<RunningRegistry> {
  const config = {
    ...readRegistryConfig({ REGISTRY_LISTEN: '127.0.0.1:0', LOG_LEVEL: 'silent', CONTENT_STORE_ADDR: '127.0.0.1:1' }),
    REGISTRY_DATABASE_URL: url,
  };
  return startRegistry(config, silentLogger(), { poolMax: 16 });
}

function unary<Req, Res>(client: registry.RegistryServiceClient, method: (r: Req, m: Metadata, cb: (e: Error | null, r: Res) => void) => unknown, req: Req, md = new Metadata()): Promise<Res> {
  return new Promise((resolve, reject) => method.call(client, req, md, (err, res) => (err ? reject(err) : resolve(res))));
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** Runs `inFlight` loops of `fn` for `ms`; answers calls per second. */
async function throughput(fn: () => Promise<unknown>, inFlight: number, ms: number): Promise<number> {
  let count = 0;
  const until = Date.now() + ms;
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (Date.now() < until) {
        await fn();
        count++;
      }
    }),
  );
  return count / (ms / 1000);
}

async function benchGetPackage(url: string): Promise<BenchRow> {
  const author = generateKeyPair();
  const did = didFromKeyPair(author);
  const replica = await startReplica(url);
  const client = new registry.RegistryServiceClient(replica.address, credentials.createInsecure());
  const ids: string[] = [];
  for (let i = 0; i < 16; i++) {
    const packageId = createHash('sha256').update(randomBytes(32)).digest('hex');
    const manifest = signDocument(
      { name: `bench-get-${i}`, version: '1.0.0', nodeClass: 'worker', dependencies: {}, artifact: { digest: `sha256:${packageId}`, size: 1000, mediaType: 'application/gzip' }, author: did },
      { keyPair: author },
    );
    await unary(client, C.registerPackage, { packageId, manifest, artifactUrl: `https://example.org/${packageId}.tgz` });
    ids.push(packageId);
  }
  const fixed = (await unary(client, C.getPackage, { packageId: ids[0]! })) as registry.GetPackageResponse;

  const bare = new Server();
  bare.addService(registry.RegistryServiceService, { getPackage: (_call: unknown, cb: (e: null, r: registry.GetPackageResponse) => void) => cb(null, fixed) } as never);
  const barePort = await new Promise<number>((resolve, reject) => bare.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))));
  const bareClient = new registry.RegistryServiceClient(`127.0.0.1:${barePort}`, credentials.createInsecure());

  const ms = Math.max(1000, 4000 * SCALE);
  let n = 0;
  const next = () => ids[n++ % ids.length]!;
  await throughput(() => unary(bareClient, C.getPackage, { packageId: next() }), 64, 500);
  await throughput(() => unary(client, C.getPackage, { packageId: next() }), 64, 500);
  const baseline = await throughput(() => unary(bareClient, C.getPackage, { packageId: next() }), 64, ms);
  const value = await throughput(() => unary(client, C.getPackage, { packageId: next() }), 64, ms);
  bareClient.close();
  client.close();
  bare.forceShutdown();
  await replica.stop(1000);
  return {
    name: 'GetPackage, 64 in flight (PostgreSQL)',
    value,
    unit: 'calls/s',
    baseline: { name: 'bare grpc-js unary', value: baseline },
    target: '≥ 50% of baseline',
    met: value >= baseline * 0.5,
  };
}

async function benchListContainment(url: string): Promise<BenchRow> {
  const total = Math.round(100_000 * SCALE);
  const replica = await startReplica(url);
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  // Rows straight into the table: the query under test does not look at the proofs.
  await client.query(
    `INSERT INTO packages (package_id, manifest, artifact_url, author_did, signature, created_at)
     SELECT encode(sha256(('bench-' || i)::bytea), 'hex'),
            jsonb_build_object('name', 'pkg-' || (i % 5000), 'version', '1.' || (i / 5000) || '.0', 'nodeClass', 'class-' || (i % 7),
                               'dependencies', '{}'::jsonb, 'labels', jsonb_build_object('team', 'team-' || (i % 1000), 'region', 'r' || (i % 13)),
                               'artifact', jsonb_build_object('digest', 'sha256:' || encode(sha256(('bench-' || i)::bytea), 'hex'), 'size', i, 'mediaType', 'application/gzip'),
                               'author', 'did:key:bench'),
            'https://example.org/' || i, 'did:key:bench', 'sig', NOW() - i * INTERVAL '1 second'
       FROM generate_series(1, $1::int) AS i`,
    [total],
  );
  await client.query('ANALYZE packages');
  await client.end();
  const grpc = new registry.RegistryServiceClient(replica.address, credentials.createInsecure());
  const queries = Math.max(100, Math.round(1000 * SCALE));
  const latencies: number[] = [];
  for (let i = 0; i < queries + 50; i++) {
    const team = `team-${Math.floor(Math.random() * 1000)}`;
    const started = performance.now();
    const res = (await unary(grpc, C.listPackages, registry.ListPackagesRequest.fromPartial({ manifestContains: { labels: { team } }, pageSize: 50 }))) as registry.ListPackagesResponse;
    if (i >= 50) latencies.push(performance.now() - started);
    if (res.packages.length === 0) throw new Error(`containment query for ${team} found nothing`);
  }
  grpc.close();
  await replica.stop(1000);
  latencies.sort((a, b) => a - b);
  const p99 = percentile(latencies, 99);
  process.stderr.write(`ListPackages containment over ${total}: p50 ${percentile(latencies, 50).toFixed(2)} ms, p99 ${p99.toFixed(2)} ms\n`);
  return { name: `ListPackages containment p99 (${total} packages)`, value: p99, unit: 'ms', target: '< 20 ms', met: p99 < 20 };
}

async function benchWatchLatency(url: string): Promise<BenchRow> {
  const a = await startReplica(url);
  const b = await startReplica(url);
  const clientA = new registry.RegistryServiceClient(a.address, credentials.createInsecure());
  const clientB = new registry.RegistryServiceClient(b.address, credentials.createInsecure());
  const nodeKey = generateKeyPair();
  const node = didFromKeyPair(nodeKey);
  const auth = () => {
    const m = new Metadata();
    m.set('authorization', `Bearer ${createNodeToken({ keyPair: nodeKey, audience: 'griot-registry' })}`);
    return m;
  };
  const author = generateKeyPair();
  const packageId = createHash('sha256').update(randomBytes(32)).digest('hex');
  const manifest = signDocument(
    { name: 'bench-watch', version: '1.0.0', nodeClass: 'worker', dependencies: {}, artifact: { digest: `sha256:${packageId}`, size: 1, mediaType: 'application/gzip' }, author: didFromKeyPair(author) },
    { keyPair: author },
  );
  await unary(clientA, C.registerPackage, { packageId, manifest, artifactUrl: 'https://example.org/w.tgz' });
  const job = ((await unary(clientA, C.createInstallation, { packageId, targetNodeId: node }, auth())) as registry.CreateInstallationResponse).installation!;
  await unary(clientA, C.claimInstallation, { waitMillis: 0 }, auth());

  const totalLines = Math.round(5000 * Math.max(2, 10 * SCALE));
  const watcherCount = Number(process.env.BENCH_WATCHERS ?? 100);
  const child = fork(join(__dirname, 'registry-watchers.ts'), [job.jobId, String(watcherCount), a.address, b.address], { execArgv: process.execArgv });
  const result = new Promise<{ latencies: number[]; counts: number[] }>((resolve, reject) => {
    child.on('message', (m: { ready?: boolean; latencies?: number[]; counts?: number[] }) => {
      if (m.latencies && m.counts) resolve({ latencies: m.latencies, counts: m.counts });
    });
    child.on('exit', (code) => (code === 0 ? undefined : reject(new Error(`watchers exited with ${code}`))));
  });
  await new Promise<void>((resolve) => child.on('message', (m: { ready?: boolean }) => m.ready && resolve()));
  await new Promise((r) => setTimeout(r, 500));
  const report = clientA.reportInstallation(auth(), () => undefined);
  report.write({ jobId: job.jobId, logLines: [], status: 0, statusMessage: '' });
  const started = performance.now();
  let sent = 0;
  const padding = 'x'.repeat(60);
  // 5,000 lines/s: each 10 ms tick sends what is due.
  while (sent < totalLines) {
    const due = Math.min(totalLines, Math.floor(((performance.now() - started) / 1000) * 5000));
    if (due > sent) {
      const now = performance.timeOrigin + performance.now();
      const lines = Array.from({ length: due - sent }, (_, i) => `${now} line ${sent + i} ${padding}`);
      report.write({ jobId: '', logLines: lines, status: 0, statusMessage: '' });
      sent = due;
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  const rate = sent / ((performance.now() - started) / 1000);
  report.write({ jobId: '', logLines: [], status: registry.InstallationStatus.INSTALLATION_STATUS_COMPLETED, statusMessage: 'done' });
  report.end();
  const { latencies, counts } = await result;
  if (counts.some((c) => c !== totalLines)) throw new Error(`watchers received ${counts.join(',')} lines, expected ${totalLines}`);
  clientA.close();
  clientB.close();
  await a.stop(1000);
  await b.stop(1000);
  latencies.sort((x, y) => x - y);
  const p99 = percentile(latencies, 99);
  process.stderr.write(`watch: ${totalLines} lines at ${rate.toFixed(0)} lines/s to ${watcherCount} watchers on 2 replicas: p50 ${percentile(latencies, 50).toFixed(1)} ms, p99 ${p99.toFixed(1)} ms\n`);
  return { name: 'Watch delivery p99 (5k lines/s, 100 watchers, 2 replicas)', value: p99, unit: 'ms', target: '< 100 ms', met: p99 < 100 };
}

/** Runs the registry benchmarks on a fresh PostgreSQL database each. */
export async function benchRegistry(): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  const only = process.env.BENCH_ONLY;
  for (const bench of [benchGetPackage, benchListContainment, benchWatchLatency].filter((b) => !only || b.name.toLowerCase().includes(only.toLowerCase()))) {
    const db = await freshDatabase();
    try {
      rows.push(await bench(db.url));
    } finally {
      await db.drop();
    }
  }
  return rows;
}

if (require.main === module) {
  benchRegistry()
    .then((rows) => process.stdout.write(`\n${formatTable(rows)}\n`))
    .catch((err: unknown) => {
      process.stderr.write(`registry bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exit(1);
    });
}
