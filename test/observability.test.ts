/**
 * What an operator sees of the two services: the admin server's /healthz,
 * /readyz and /metrics; go-grpc-prometheus' series counting unary and
 * streaming calls with their codes; the domain metrics; and a RegisterPackage
 * traced through the registry into the content store (both in this process,
 * tracing to an in-memory exporter), with database spans inside.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Metadata, type ServiceError } from '@grpc/grpc-js';
import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { readContentStoreConfig, startContentStore, type RunningContentStore } from '@griot/content-store';
import type { content, registry } from '@griot/proto';
import { readRegistryConfig, startRegistry, type RunningRegistry } from '@griot/registry';
import { silentLogger, startTracing, type Tracing } from '@griot/server-kit';
import { createPostgresDatabase, DB_KINDS } from '@griot/test/support/database';
import { callerAuth, connect, newIdentity, publishTestPackage, unary, uploadBytes } from '@griot/test/support/fixtures';

/** One sample of a Prometheus text exposition. */
interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

function parseMetrics(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`not a sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const pair of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[pair[1]!] = pair[2]!;
    out.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return out;
}

/** The value of the one series of `name` with (at least) these labels; 0 when absent. */
function value(samples: Sample[], name: string, labels: Record<string, string>): number {
  const found = samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  if (found.length > 1) throw new Error(`${found.length} series of ${name} match ${JSON.stringify(labels)}`);
  return found[0]?.value ?? 0;
}

/** /readyz's answer once it is 200, or its last answer after 30 s of asking. */
async function readyAnswer(admin: string): Promise<[number, string]> {
  const end = Date.now() + 30_000;
  for (;;) {
    const res = await fetch(`http://${admin}/readyz`);
    const answer: [number, string] = [res.status, await res.text()];
    if (answer[0] === 200 || Date.now() > end) return answer;
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function scrape(admin: string): Promise<Sample[]> {
  const res = await fetch(`http://${admin}/metrics`);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return parseMetrics(await res.text());
}

const exporter = new InMemorySpanExporter();
let tracing: Tracing | undefined;
beforeAll(() => {
  tracing = startTracing({ serviceName: 'griot-test', exporter });
});
afterAll(async () => {
  await tracing?.shutdown();
});

describe.each(DB_KINDS)('observability (%s)', (kind) => {
  let dataDir: string;
  let contentStore: RunningContentStore;
  let registryService: RunningRegistry;
  let clients: ReturnType<typeof connect>;
  const drops: (() => Promise<void>)[] = [];

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'griot-observability-'));
    const url = async () => {
      if (kind !== 'postgres') return undefined;
      const created = await createPostgresDatabase();
      drops.push(created.drop);
      return created.url;
    };
    const embedded = kind === 'pglite' ? { GRIOT_EMBEDDED_DATABASE: 'pglite' } : {};
    contentStore = await startContentStore(
      readContentStoreConfig({ CONTENT_LISTEN: '127.0.0.1:0', CONTENT_ADMIN_LISTEN: '127.0.0.1:0', CONTENT_DATABASE_URL: await url(), GRIOT_DATA_DIR: dataDir, ...embedded }),
      silentLogger(),
      { manualSweep: true },
    );
    registryService = await startRegistry(
      readRegistryConfig({
        REGISTRY_LISTEN: '127.0.0.1:0',
        REGISTRY_ADMIN_LISTEN: '127.0.0.1:0',
        REGISTRY_DATABASE_URL: await url(),
        GRIOT_DATA_DIR: dataDir,
        CONTENT_STORE_ADDR: contentStore.address,
        ...embedded,
      }),
      silentLogger(),
    );
    clients = connect({ content: contentStore.address, registry: registryService.address });
  }, 60_000);

  afterAll(async () => {
    clients?.close();
    await registryService?.stop(1000);
    await contentStore?.stop(1000);
    for (const drop of drops) await drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('serves /healthz, /readyz and /metrics on each admin address, and 404 elsewhere', async () => {
    for (const admin of [registryService.adminAddress!, contentStore.adminAddress!]) {
      const healthz = await fetch(`http://${admin}/healthz`);
      expect([healthz.status, await healthz.text()]).toEqual([200, 'ok\n']);
      // A probe that waited too long on a loaded machine makes the first answer 503; it turns 200 once one answers.
      expect(await readyAnswer(admin)).toEqual([200, 'ready\n']);
      const samples = await scrape(admin);
      // Node.js process metrics and the database pool.
      expect(samples.some((s) => s.name === 'process_cpu_user_seconds_total')).toBe(true);
      expect(samples.some((s) => s.name === 'nodejs_eventloop_lag_seconds')).toBe(true);
      expect(samples.some((s) => s.name === 'griot_db_pool_connections_in_use')).toBe(true);
      expect(samples.some((s) => s.name === 'griot_db_pool_waiting')).toBe(true);
      expect((await fetch(`http://${admin}/nope`)).status).toBe(404);
      expect((await fetch(`http://${admin}/metrics`, { method: 'POST' })).status).toBe(405);
    }
  });

  it('counts a unary call in grpc_server_handled_total with its code', async () => {
    const labels = { grpc_type: 'unary', grpc_service: 'griot.registry.v1.RegistryService', grpc_method: 'GetPackage' };
    const before = await scrape(registryService.adminAddress!);
    const code = await new Promise<number>((resolve) =>
      clients.registry.getPackage({ packageId: 'f'.repeat(64) }, new Metadata(), (err: ServiceError | null) => resolve(err ? err.code : 0)),
    );
    expect(code).toBe(5);
    const after = await scrape(registryService.adminAddress!);
    expect(value(after, 'grpc_server_handled_total', { ...labels, grpc_code: 'NotFound' }) - value(before, 'grpc_server_handled_total', { ...labels, grpc_code: 'NotFound' })).toBe(1);
    expect(value(after, 'grpc_server_handled_total', { ...labels, grpc_code: 'OK' })).toBe(value(before, 'grpc_server_handled_total', { ...labels, grpc_code: 'OK' }));
    expect(value(after, 'grpc_server_started_total', labels) - value(before, 'grpc_server_started_total', labels)).toBe(1);
    expect(value(after, 'grpc_server_msg_received_total', labels) - value(before, 'grpc_server_msg_received_total', labels)).toBe(1);
    // A refused call sends no message.
    expect(value(after, 'grpc_server_msg_sent_total', labels) - value(before, 'grpc_server_msg_sent_total', labels)).toBe(0);
    const count = (s: Sample[]) => value(s, 'grpc_server_handling_seconds_count', labels);
    expect(count(after) - count(before)).toBe(1);
    expect(value(after, 'grpc_server_handling_seconds_bucket', { ...labels, le: '+Inf' })).toBe(count(after));
  });

  it('counts streaming calls, their messages and the bytes, with their codes', async () => {
    const admin = contentStore.adminAddress!;
    const upload = { grpc_type: 'client_stream', grpc_service: 'griot.content.v1.ContentService', grpc_method: 'UploadBlob' };
    const read = { grpc_type: 'server_stream', grpc_service: 'griot.content.v1.ContentService', grpc_method: 'ReadContent' };
    const before = await scrape(admin);
    const bytes = Buffer.alloc(3 * 64 * 1024 - 10, 7);
    const sha256 = await uploadBytes(clients.content, bytes, newIdentity(), 64 * 1024);
    // The same bytes again: answered from the blob the store holds.
    await uploadBytes(clients.content, bytes, newIdentity(), 64 * 1024);
    const chunks: Buffer[] = [];
    await new Promise<void>((resolve, reject) => {
      const stream = clients.content.readContent({ target: { $case: 'blob', blob: { sha256, storageName: '' } }, offset: 0, limit: 0 });
      stream.on('data', (m: content.ReadContentResponse) => chunks.push(Buffer.from(m.data)));
      stream.on('end', resolve);
      stream.on('error', reject);
    });
    expect(Buffer.concat(chunks).equals(bytes)).toBe(true);
    // A stream refused: a digest the store does not hold.
    const missing = await new Promise<number>((resolve) => {
      const stream = clients.content.readContent({ target: { $case: 'blob', blob: { sha256: '0'.repeat(64), storageName: '' } }, offset: 0, limit: 0 });
      stream.on('data', () => undefined);
      stream.on('error', (err: ServiceError) => resolve(err.code));
      stream.on('end', () => resolve(0));
    });
    expect(missing).toBe(5);
    const after = await scrape(admin);
    const delta = (name: string, labels: Record<string, string>) => value(after, name, labels) - value(before, name, labels);
    expect(delta('grpc_server_handled_total', { ...upload, grpc_code: 'OK' })).toBe(2);
    expect(delta('grpc_server_started_total', upload)).toBe(2);
    // The first upload's 3 messages; the second may be answered after its first (the store holds the blob).
    expect(delta('grpc_server_msg_received_total', upload)).toBeGreaterThanOrEqual(4);
    expect(delta('grpc_server_msg_sent_total', upload)).toBe(2);
    expect(delta('grpc_server_handled_total', { ...read, grpc_code: 'OK' })).toBe(1);
    expect(delta('grpc_server_handled_total', { ...read, grpc_code: 'NotFound' })).toBe(1);
    expect(delta('grpc_server_msg_sent_total', read)).toBe(chunks.length);
    expect(delta('grpc_server_msg_received_total', read)).toBe(2);
    expect(delta('griot_content_uploaded_bytes_total', {})).toBe(bytes.length);
    expect(delta('griot_content_served_bytes_total', {})).toBe(bytes.length);
    expect(delta('griot_content_deduplicated_uploads_total', {})).toBe(1);
    expect(value(after, 'griot_content_uploads_in_progress', {})).toBe(0);
  });

  it('traces a RegisterPackage through the registry into the content store, in one trace', async () => {
    const admin = registryService.adminAddress!;
    const before = await scrape(admin);
    exporter.reset();
    const author = newIdentity();
    await publishTestPackage(clients, author, { name: `traced-${kind}`, version: '1.0.0' });
    const spans = exporter.getFinishedSpans();
    const attr = (s: ReadableSpan, name: string) => s.attributes[name];
    const registerSpans = spans.filter((s) => attr(s, 'rpc.method') === 'RegisterPackage' && attr(s, 'rpc.service') === 'griot.registry.v1.RegistryService');
    expect(registerSpans).toHaveLength(1);
    const register = registerSpans[0]!;
    expect(register.kind).toBe(1); // SERVER
    expect(attr(register, 'rpc.system')).toBe('grpc');
    expect(attr(register, 'rpc.grpc.status_code')).toBe(0);
    const traceId = register.spanContext().traceId;
    const requestId = attr(register, 'griot.request_id');
    expect(typeof requestId).toBe('string');
    const inTrace = spans.filter((s) => s.spanContext().traceId === traceId);
    const contentServer = inTrace.filter((s) => s.kind === 1 && attr(s, 'rpc.service') === 'griot.content.v1.ContentService');
    expect(contentServer.map((s) => attr(s, 'rpc.method')).sort()).toEqual(['CreateManifest', 'GetBlob']);
    const contentClient = inTrace.filter((s) => s.kind === 2 && attr(s, 'rpc.service') === 'griot.content.v1.ContentService');
    expect(contentClient).toHaveLength(2);
    for (const server of contentServer) {
      // The content store's span is the child of the registry's client span, and carries the same request id.
      const client = contentClient.find((c) => c.spanContext().spanId === server.parentSpanContext?.spanId);
      expect(client).toBeDefined();
      expect(client!.parentSpanContext?.spanId).toBe(register.spanContext().spanId);
      expect(attr(server, 'griot.request_id')).toBe(requestId);
    }
    // Database spans of both services, inside the trace.
    const dbSpans = inTrace.filter((s) => attr(s, 'db.system') === 'postgresql');
    expect(dbSpans.length).toBeGreaterThan(0);
    expect(dbSpans.every((s) => attr(s, 'griot.request_id') === requestId)).toBe(true);
    // The upload before it was a trace of its own (the test's client sends no traceparent).
    const upload = spans.find((s) => attr(s, 'rpc.method') === 'UploadBlob');
    expect(upload).toBeDefined();
    expect(upload!.spanContext().traceId).not.toBe(traceId);

    const after = await scrape(admin);
    expect(value(after, 'griot_registry_packages_registered_total', {}) - value(before, 'griot_registry_packages_registered_total', {})).toBe(1);
    // A refusal, counted by reason: the same name and version by another author.
    await expect(publishTestPackage(clients, newIdentity(), { name: `traced-${kind}`, version: '1.0.0' })).rejects.toMatchObject({ code: expect.any(Number) });
    const refused = (await scrape(admin)).filter((s) => s.name === 'griot_registry_registrations_refused_total');
    expect(refused.reduce((n, s) => n + s.value, 0)).toBe(1);
    expect(refused[0]!.labels.reason).toMatch(/^[A-Z_]+$/);
  });

  it('measures how long job notifications take to reach the registry', async () => {
    const admin = registryService.adminAddress!;
    const lagCount = async () => value(await scrape(admin), 'griot_registry_notification_lag_seconds_count', {});
    const before = await lagCount();
    const node = newIdentity();
    const pkg = await publishTestPackage(clients, newIdentity(), { name: `notified-${kind}`, version: '1.0.0' });
    // A new job notifies its node's queue; the registry listens to it like every replica does.
    await unary<registry.CreateInstallationRequest, registry.CreateInstallationResponse>(
      clients.registry.createInstallation.bind(clients.registry),
      { packageId: pkg.packageId, targetNodeId: node.did },
      callerAuth(node),
    );
    const end = Date.now() + 30_000;
    while ((await lagCount()) === before && Date.now() < end) await new Promise((r) => setTimeout(r, 100));
    const samples = await scrape(admin);
    expect(value(samples, 'griot_registry_notification_lag_seconds_count', {})).toBeGreaterThan(before);
    // Delivered within the same machine: far below the histogram's last bucket.
    expect(value(samples, 'griot_registry_notification_lag_seconds_bucket', { le: '2.5' })).toBe(value(samples, 'griot_registry_notification_lag_seconds_count', {}));
  });
});
