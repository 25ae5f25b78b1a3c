/**
 * A bounded, mixed load on both services as real processes (fresh
 * PostgreSQL databases, loopback only) for a given duration: h2load drives
 * GetPackage and ListPackages (unary, rate-limited), the generated client
 * uploads and downloads blobs and samples the unary answers' grpc-status
 * (h2load only sees HTTP status), and one installation job is reported at a
 * steady rate while a watcher follows it. Each service's peak RSS is
 * sampled. Shared by `bench/load.ts` (60 s, a table) and test/load.test.ts.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { ServiceError } from '@grpc/grpc-js';
import { registry } from '@griot/proto';
import { createPostgresDatabase } from '@griot/test/support/database';
import { connect, newIdentity, nodeAuth, publishTestPackage, unary, uploadBytes } from '@griot/test/support/fixtures';
import { spawnTs, SERVICE_ENTRIES } from '@griot/test/support/process';

/** Options of {@link runLoad}. */
export interface LoadOptions {
  /** How long the load holds, in seconds. */
  seconds: number;
  /** Requests per second of each h2load client (2 clients per unary method). */
  unaryRpsPerClient?: number;
  /** Log lines per second of the reported job. */
  reportLinesPerSecond?: number;
  /** Progress lines on stderr. */
  log?: (line: string) => void;
}

/** What one workload did. */
export interface WorkloadResult {
  name: string;
  calls: number;
  callsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
  /** The first few errors, for the report. */
  errorSamples: string[];
}

/** What the whole load did. */
export interface LoadReport {
  seconds: number;
  workloads: WorkloadResult[];
  /** Service name → peak resident set size in MiB. */
  peakRssMiB: Record<string, number>;
  errors: number;
}

const KiB = 1024;
const UPLOAD_BYTES = 256 * KiB;
const DOWNLOAD_BYTES = 1024 * KiB;
const SEED_PACKAGES = 20;

/** Runs the load and reports it. Never throws for errors of the calls: they are counted. */
export async function runLoad(options: LoadOptions): Promise<LoadReport> {
  const log = options.log ?? (() => undefined);
  const work = await mkdtemp(join(tmpdir(), 'griot-load-'));
  const dbs = [await createPostgresDatabase(), await createPostgresDatabase()];
  const services: StartedProcess[] = [];
  let clients: ReturnType<typeof connect> | undefined;
  try {
    services.push(await startService('content-store', { CONTENT_DATABASE_URL: dbs[0]!.url, GRIOT_DATA_DIR: join(work, 'content') }));
    services.push(await startService('registry', { REGISTRY_DATABASE_URL: dbs[1]!.url, GRIOT_DATA_DIR: join(work, 'registry'), CONTENT_STORE_ADDR: services[0]!.address }));
    const [contentSvc, registrySvc] = services as [StartedProcess, StartedProcess];
    clients = connect({ content: contentSvc.address, registry: registrySvc.address });
    log(`services up: content ${contentSvc.address}, registry ${registrySvc.address}; seeding`);

    const author = newIdentity();
    const packages: registry.Package[] = [];
    for (let i = 0; i < SEED_PACKAGES; i++) packages.push(await publishTestPackage(clients, author, { name: `load-${i}`, version: `1.${i}.0` }));
    const downloadSha = await uploadBytes(clients.content, randomBytes(DOWNLOAD_BYTES), author);
    const node = newIdentity();

    const rss = sampleRss({ 'content-store': contentSvc.child.pid!, registry: registrySvc.child.pid! });
    const deadline = Date.now() + options.seconds * 1000;
    const rps = options.unaryRpsPerClient ?? 150;
    log(`load for ${options.seconds} s`);
    const results = await Promise.all([
      h2loadWorkload('GetPackage (h2load)', registrySvc.address, '/griot.registry.v1.RegistryService/GetPackage', registry.GetPackageRequest.encode({ packageId: packages[0]!.packageId }).finish(), options.seconds, rps, work),
      h2loadWorkload('ListPackages (h2load)', registrySvc.address, '/griot.registry.v1.RegistryService/ListPackages', registry.ListPackagesRequest.encode({ authorDid: '', name: '', version: '', nodeClass: '', manifestContains: undefined, pageSize: 10, pageToken: '', includeYanked: false }).finish(), options.seconds, rps, work),
      loop('unary grpc-status sample', deadline, 1, 50, async () => {
        const got = await unary<registry.GetPackageRequest, registry.GetPackageResponse>(clients!.registry.getPackage.bind(clients!.registry), { packageId: packages[0]!.packageId });
        if (got.package?.packageId !== packages[0]!.packageId) throw new Error('GetPackage answered another package');
        const list = await unary<registry.ListPackagesRequest, registry.ListPackagesResponse>(clients!.registry.listPackages.bind(clients!.registry), {
          authorDid: '', name: '', version: '', nodeClass: '', manifestContains: undefined, pageSize: 10, pageToken: '', includeYanked: false,
        });
        if (list.packages.length !== 10) throw new Error(`ListPackages answered ${list.packages.length} packages, not 10`);
      }),
      loop('UploadBlob 256 KiB', deadline, 2, 0, async () => {
        await uploadBytes(clients!.content, randomBytes(UPLOAD_BYTES), author);
      }),
      loop('ReadContent 1 MiB', deadline, 2, 0, async () => {
        const n = await readAll(clients!, downloadSha);
        if (n !== DOWNLOAD_BYTES) throw new Error(`read ${n} bytes, not ${DOWNLOAD_BYTES}`);
      }),
      reportAndWatch(clients, packages[0]!.packageId, node, deadline, options.reportLinesPerSecond ?? 50),
    ]);
    const peak = await rss.stop();
    const workloads = results.flat();
    return { seconds: options.seconds, workloads, peakRssMiB: peak, errors: workloads.reduce((n, w) => n + w.errors, 0) };
  } finally {
    clients?.close();
    for (const s of services.reverse()) await s.stop();
    for (const db of dbs) await db.drop().catch(() => undefined);
    await rm(work, { recursive: true, force: true });
  }
}

interface StartedProcess {
  child: ChildProcess;
  address: string;
  stop(): Promise<void>;
}

/** Starts a service through tsx and waits for its "listening" line; later output is drained unread. */
async function startService(name: keyof typeof SERVICE_ENTRIES, env: NodeJS.ProcessEnv): Promise<StartedProcess> {
  const spec = SERVICE_ENTRIES[name];
  const child = spawnTs(spec.entry, { [spec.listen]: '127.0.0.1:0', LOG_LEVEL: 'info', ...env });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString('utf8')).slice(-4000)));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const address = await new Promise<string>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    const timer = setTimeout(() => reject(new Error(`${name} did not start within 60 s: ${stderr}`)), 60_000);
    child.once('exit', (code) => reject(new Error(`${name} exited (${code}) before listening: ${stderr}`)));
    lines.on('line', (line) => {
      try {
        const parsed = JSON.parse(line) as { msg?: string; address?: string };
        if (parsed.msg === spec.ready) {
          clearTimeout(timer);
          lines.close();
          resolve(String(parsed.address));
        }
      } catch {
        // Not a JSON line.
      }
    });
  });
  // One log line per call: read and dropped, so that the pipe never fills.
  child.stdout!.on('data', () => undefined);
  return {
    child,
    address,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Samples the resident set of each service (its process and descendants, tsx starts node as a child). */
function sampleRss(pids: Record<string, number>): { stop(): Promise<Record<string, number>> } {
  const peak: Record<string, number> = Object.fromEntries(Object.keys(pids).map((k) => [k, 0]));
  const sample = () => {
    for (const [name, pid] of Object.entries(pids)) {
      for (const p of [pid, ...descendants(pid)]) {
        const status = readProc(`/proc/${p}/status`);
        // VmHWM is the process's own peak; VmRSS sampled covers a process that just ended.
        for (const field of ['VmHWM', 'VmRSS']) {
          const kb = Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0);
          peak[name] = Math.max(peak[name]!, kb / 1024);
        }
      }
    }
  };
  const timer = setInterval(sample, 250);
  sample();
  return {
    async stop() {
      sample();
      clearInterval(timer);
      return Object.fromEntries(Object.entries(peak).map(([k, v]) => [k, Math.round(v * 10) / 10]));
    },
  };
}

function descendants(pid: number): number[] {
  const out: number[] = [];
  const children = readProc(`/proc/${pid}/task/${pid}/children`).split(/\s+/).filter(Boolean).map(Number);
  for (const c of children) out.push(c, ...descendants(c));
  return out;
}

function readProc(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

/** Runs `fn` with `concurrency` workers until the deadline, `pauseMs` between calls of a worker. */
async function loop(name: string, deadline: number, concurrency: number, pauseMs: number, fn: () => Promise<void>): Promise<WorkloadResult> {
  const latencies: number[] = [];
  const errors: string[] = [];
  let errorCount = 0;
  const started = Date.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (Date.now() < deadline) {
        const t = process.hrtime.bigint();
        try {
          await fn();
          latencies.push(Number(process.hrtime.bigint() - t) / 1e6);
        } catch (err) {
          errorCount++;
          if (errors.length < 5) errors.push(describe(err));
        }
        if (pauseMs > 0) await new Promise((r) => setTimeout(r, pauseMs));
      }
    }),
  );
  return summarize(name, latencies, errorCount, errors, (Date.now() - started) / 1000);
}

function describe(err: unknown): string {
  const e = err as Partial<ServiceError>;
  return e.code !== undefined ? `code ${e.code}: ${e.details}` : err instanceof Error ? err.message : String(err);
}

function summarize(name: string, latencies: number[], errors: number, errorSamples: string[], seconds: number): WorkloadResult {
  const sorted = [...latencies].sort((a, b) => a - b);
  const at = (q: number) => (sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!);
  return {
    name,
    calls: latencies.length + errors,
    callsPerSecond: Math.round(((latencies.length + errors) / seconds) * 10) / 10,
    p50Ms: Math.round(at(0.5) * 100) / 100,
    p99Ms: Math.round(at(0.99) * 100) / 100,
    errors,
    errorSamples,
  };
}

/** Reads a blob whole through ReadContent; resolves with the byte count. */
function readAll(clients: ReturnType<typeof connect>, sha256: string): Promise<number> {
  return new Promise((resolve, reject) => {
    let n = 0;
    const call = clients.content.readContent({ target: { $case: 'blob', blob: { sha256, storageName: '' } }, offset: 0, limit: 0 });
    call.on('data', (m: { data: Buffer }) => (n += m.data.length));
    call.on('error', reject);
    call.on('end', () => resolve(n));
  });
}

/** One h2load run against a unary method for `seconds`, with per-request latencies from its log file. */
async function h2loadWorkload(name: string, address: string, path: string, message: Uint8Array, seconds: number, rps: number, work: string): Promise<WorkloadResult> {
  const slug = path.split('/').pop()!;
  const body = join(work, `${slug}.body`);
  const logFile = join(work, `${slug}.log`);
  const framed = Buffer.alloc(5 + message.length);
  framed.writeUInt32BE(message.length, 1);
  Buffer.from(message).copy(framed, 5);
  await writeFile(body, framed);
  const args = [
    `http://${address}${path}`, '-d', body,
    '-H', 'content-type: application/grpc', '-H', 'te: trailers',
    '-c', '2', '-m', '4', '-t', '1', '--rps', String(rps),
    '-D', `${seconds}s`, '--log-file', logFile,
  ];
  const output = await new Promise<{ code: number | null; text: string }>((resolve, reject) => {
    const child = spawn('h2load', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let text = '';
    child.stdout.on('data', (d: Buffer) => (text += d.toString('utf8')));
    child.stderr.on('data', (d: Buffer) => (text += d.toString('utf8')));
    child.on('error', reject);
    // 'close', not 'exit': under load the summary can still be in the pipe when h2load has exited.
    child.on('close', (code) => resolve({ code, text }));
  });
  const rows = (await readFile(logFile, 'utf8').catch(() => '')).split('\n').filter(Boolean).map((l) => l.split('\t'));
  const latencies = rows.filter((r) => r[1] === '200').map((r) => Number(r[2]) / 1000);
  const bad = rows.filter((r) => r[1] !== '200');
  const requests = /requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored, (\d+) timeout/.exec(output.text);
  const failed = requests ? Number(requests[5]) + Number(requests[6]) + Number(requests[7]) : 1;
  const errorSamples: string[] = [];
  if (output.code !== 0) errorSamples.push(`h2load exited ${output.code}: ${output.text.slice(-500)}`);
  if (!requests) errorSamples.push(`no h2load summary: ${output.text.slice(-500)}`);
  if (bad.length > 0) errorSamples.push(`${bad.length} answers with HTTP status other than 200 (first: ${bad[0]![1]})`);
  // h2load counts a reset stream or a broken connection as failed or errored without an HTTP status: keep its own words.
  if (requests && Number(requests[5]) + Number(requests[6]) + Number(requests[7]) > 0) errorSamples.push(`h2load: ${output.text.split('\n').filter((l) => /^(requests|status codes|finished in)/.test(l.trim())).map((l) => l.trim()).join('; ')}`);
  const errors = Math.max(failed, bad.length) + (output.code !== 0 ? 1 : 0);
  return summarize(name, latencies, errors, errorSamples, seconds);
}

/**
 * Creates a job for `node`, claims it, reports `linesPerSecond` log lines
 * (each carrying its send time) until the deadline, then COMPLETED; a
 * watcher follows from line 0. Two results: the report stream (per batch
 * written) and the watch (per line, latency from report to arrival).
 */
async function reportAndWatch(
  clients: ReturnType<typeof connect>,
  packageId: string,
  node: ReturnType<typeof newIdentity>,
  deadline: number,
  linesPerSecond: number,
): Promise<WorkloadResult[]> {
  const started = Date.now();
  const reportErrors: string[] = [];
  const watchErrors: string[] = [];
  const reportLatencies: number[] = [];
  const watchLatencies: number[] = [];
  let watchErrorCount = 0;
  let reportErrorCount = 0;
  try {
    const job = (await unary<registry.CreateInstallationRequest, registry.CreateInstallationResponse>(clients.registry.createInstallation.bind(clients.registry), { packageId, targetNodeId: node.did }, nodeAuth(node))).installation!;
    const claimed = await unary<registry.ClaimInstallationRequest, registry.ClaimInstallationResponse>(clients.registry.claimInstallation.bind(clients.registry), { waitMillis: 5000 }, nodeAuth(node));
    if (claimed.installation?.jobId !== job.jobId) throw new Error('the claimed job is not the one created');

    let received = 0;
    let finalStatus: registry.InstallationStatus | undefined;
    const watched = new Promise<void>((resolve) => {
      const watch = clients.registry.watchInstallation({ jobId: job.jobId, fromLine: 0 }, nodeAuth(node));
      watch.on('data', (m: registry.WatchInstallationResponse) => {
        if (m.firstLine !== received) {
          watchErrorCount++;
          if (watchErrors.length < 5) watchErrors.push(`lines from ${m.firstLine}, expected ${received}`);
        }
        const now = Date.now();
        for (const line of m.lines) watchLatencies.push(now - Number(line.split(' ')[1]));
        received = m.firstLine + m.lines.length;
        finalStatus = m.status;
      });
      watch.on('error', (err) => {
        watchErrorCount++;
        watchErrors.push(describe(err));
        resolve();
      });
      watch.on('end', () => resolve());
    });

    let sent = 0;
    const report = new Promise<registry.ReportInstallationResponse>((resolve, reject) => {
      const call = clients.registry.reportInstallation(nodeAuth(node), (err, res) => (err ? reject(err) : resolve(res!)));
      const interval = 1000 / linesPerSecond;
      const tick = () => {
        if (Date.now() >= deadline) {
          call.write({ jobId: job.jobId, logLines: [], status: registry.InstallationStatus.INSTALLATION_STATUS_COMPLETED, statusMessage: 'load done' });
          call.end();
          return;
        }
        const t = process.hrtime.bigint();
        call.write({ jobId: job.jobId, logLines: [`line ${Date.now()} #${sent}`], status: 0, statusMessage: '' });
        reportLatencies.push(Number(process.hrtime.bigint() - t) / 1e6);
        sent++;
        setTimeout(tick, interval);
      };
      tick();
    });
    const done = await report;
    await Promise.race([watched, new Promise((r) => setTimeout(r, 10_000))]);
    if (done.installation?.logCount !== sent) {
      reportErrorCount++;
      reportErrors.push(`the job holds ${done.installation?.logCount} lines, ${sent} were reported`);
    }
    if (received !== sent || finalStatus !== registry.InstallationStatus.INSTALLATION_STATUS_COMPLETED) {
      watchErrorCount++;
      watchErrors.push(`the watcher got ${received} of ${sent} lines and status ${finalStatus}`);
    }
  } catch (err) {
    reportErrorCount++;
    reportErrors.push(describe(err));
  }
  const seconds = (Date.now() - started) / 1000;
  return [
    summarize('ReportInstallation lines (1 job)', reportLatencies, reportErrorCount, reportErrors, seconds),
    summarize('WatchInstallation lines (report→watch)', watchLatencies, watchErrorCount, watchErrors, seconds),
  ];
}

/** The report as a fixed-width table. */
export function formatLoadReport(report: LoadReport): string {
  const header = ['workload', 'calls', 'calls/s', 'p50 ms', 'p99 ms', 'errors'];
  const rows = report.workloads.map((w) => [w.name, String(w.calls), w.callsPerSecond.toFixed(1), w.p50Ms.toFixed(2), w.p99Ms.toFixed(2), String(w.errors)]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  const out = [`load: ${report.seconds} s`, line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line), ''];
  out.push('service        peak RSS MiB');
  for (const [name, mib] of Object.entries(report.peakRssMiB)) out.push(`${name.padEnd(14)} ${mib.toFixed(1).padStart(12)}`);
  for (const w of report.workloads) for (const e of w.errorSamples) out.push(`error (${w.name}): ${e}`);
  return out.join('\n');
}
