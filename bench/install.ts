/**
 * Install benchmark: a node agent (`griot agent`, packages/cli/src/agent.ts)
 * installing one package of many files, from its claim to its completed
 * report, against `tar -xzf` of the very same artifact read from a local
 * file (already in the page cache: the bare source). At `BENCH_SCALE=1` the
 * artifact is a 256 MiB `.tar.gz` of 4,000 files in 40 folders (base64 text
 * of random bytes, ~340 MiB unpacked: it compresses about as well as a
 * package of built code); a smaller scale shrinks both.
 *
 * The artifact is made by `tar -czf` (gzip -6); this process publishes it as
 * `griot publish` would (UploadBlob, then RegisterPackage with a signed
 * manifest) and creates each job as `griot install --node` would. The content
 * store and the registry run as processes of their own on fresh PostgreSQL
 * databases, and the agent is the real CLI, `griot agent --once`. The time
 * is from the agent's "claimed by" log line to its "completed" line (its own
 * millisecond timestamps); its RSS is sampled every 20 ms, and the row gives
 * the peak minus the RSS it had idle, waiting for the claim. The agent's own
 * log lines split the time at "sha256 … verified": the download with its
 * SHA-256 and as much of the extraction as kept up with it (the agent
 * extracts into a staging folder as the bytes arrive, so all of it), then what
 * is left: moving the verified folder into place.
 * Runnable alone: `pnpm exec tsx bench/install.ts`; `BENCH_SCALE=0.1` for a
 * quick run, `BENCH_ROUNDS` (3) rounds of each, the best kept;
 * `BENCH_PROFILE_DIR` writes CPU profiles of the agents there. After each
 * timed install, every installed file is compared (SHA-256) with the
 * package's folder the artifact was made from, which is what tar extracts.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { credentials, Metadata } from '@grpc/grpc-js';
import { createCallerToken, didFromKeyPair, generateKeyPair, signDocument, writeKeyFile, type Ed25519KeyPair } from '@griot/did';
import { content, registry } from '@griot/proto';
import { UploadBlobClient } from '@griot/transport';
import { cpuSecondsOf, rssOf, startServerProcess, type ServerProcess } from './content-processes';
import { createPostgresDatabase } from '@griot/test/support/database';
import { formatTable, type BenchRow } from './report';

const MiB = 1024 * 1024;
const SCALE = Number(process.env.BENCH_SCALE ?? '1');
const ROUNDS = Math.max(1, Number(process.env.BENCH_ROUNDS ?? '3'));
/** The artifact's size at scale 1, and its number of files. */
const ARTIFACT_BYTES = Math.round(256 * SCALE * MiB);
const FILES = Math.max(40, Math.round(4000 * SCALE));
const FOLDERS = 40;
const ROOT = resolve(__dirname, '..');
const CLI = join(ROOT, 'packages', 'cli', 'src', 'main.ts');
const run = promisify(execFile);


/**
 * The package's folder, made once per size and kept in the temp folder:
 * `FILES` files of base64 text of random bytes whose gzip is about
 * `ARTIFACT_BYTES` (base64 of random bytes gzips to ~76%), sizes varying
 * from a few KiB to twice the mean.
 */
async function packageFolder(): Promise<string> {
  const dir = join(tmpdir(), `griot-bench-install-${ARTIFACT_BYTES}-${FILES}`);
  if (existsSync(join(dir, 'griot.json'))) return dir;
  const building = `${dir}.building-${process.pid}`;
  await rm(building, { recursive: true, force: true });
  const unpacked = ARTIFACT_BYTES / 0.757;
  const mean = unpacked / FILES;
  for (let i = 0; i < FILES; i++) {
    const size = Math.max(1024, Math.round(mean * (0.05 + 1.9 * ((i * 7919) % FILES) / FILES)));
    const folder = join(building, 'lib', `part-${i % FOLDERS}`);
    if (i < FOLDERS) await mkdir(folder, { recursive: true });
    await writeFile(join(folder, `file-${i}.txt`), randomBytes(Math.ceil((size * 3) / 4)).toString('base64').slice(0, size));
  }
  await writeFile(join(building, 'griot.json'), `${JSON.stringify({ name: 'bench-install', version: `1.0.${FILES}`, nodeClass: 'worker', dependencies: {} }, null, 2)}\n`);
  await rename(building, dir);
  return dir;
}

/** Reads every file under `dir` once, so that it is in the page cache. */
async function warmFolder(dir: string): Promise<void> {
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) await readFile(join(entry.parentPath, entry.name));
  }
}

/** The files under `dir` (relative paths, sorted) with the SHA-256 of each one's bytes; folders by name only. */
async function treeDigest(dir: string): Promise<string[]> {
  const rows: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    const path = join(entry.parentPath, entry.name);
    const rel = path.slice(dir.length + 1);
    if (entry.isDirectory()) rows.push(`${rel}/`);
    else rows.push(`${rel} ${createHash('sha256').update(await readFile(path)).digest('hex')}`);
  }
  return rows.sort();
}

/** Metadata with a fresh caller token of `keyPair` for `audience` (a service accepts each token once). */
function callerAuth(keyPair: Ed25519KeyPair, audience: string): Metadata {
  const m = new Metadata();
  m.set('authorization', `Bearer ${createCallerToken({ keyPair, audience })}`);
  return m;
}

function unary<T>(start: (cb: (err: Error | null, res?: T) => void) => unknown): Promise<T> {
  return new Promise((resolvePromise, reject) => start((err, res) => (err ? reject(err) : resolvePromise(res!))));
}

/**
 * Publishes the artifact as `griot publish` does, without the CLI: uploads it
 * to the content store (UploadBlob, 1 MiB messages), then registers a manifest
 * signed by `author` (the first registrant of a name becomes its owner, whom
 * the agent trusts). Answers the package id.
 */
async function publish(artifact: string, author: Ed25519KeyPair, contentAddress: string, registryAddress: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(artifact)) hash.update(chunk as Buffer);
  const packageId = hash.digest('hex');
  const size = (await stat(artifact)).size;
  const uploads = new UploadBlobClient(contentAddress);
  try {
    await new Promise<content.UploadBlobResponse>((resolvePromise, reject) => {
      const call = uploads.uploadBlob(callerAuth(author, 'griot-content'), undefined, (err, res) => (err ? reject(err) : resolvePromise(res!)));
      void (async () => {
        let offset = 0;
        for await (const data of createReadStream(artifact, { highWaterMark: MiB })) {
          const chunk = data as Buffer;
          const message: content.UploadBlobRequest = {
            start: offset === 0 ? { uploadId: '', storageName: 'griot.file@v1', sha256: packageId, size } : undefined,
            offset,
            data: chunk,
            finishWrite: offset + chunk.length === size,
          };
          offset += chunk.length;
          if (!call.write(message)) await new Promise((r) => call.once('drain', r));
        }
        call.end();
      })().catch(reject);
    });
  } finally {
    uploads.close();
  }
  const client = new registry.RegistryServiceClient(registryAddress, credentials.createInsecure());
  try {
    const manifest = signDocument(
      {
        name: 'bench-install',
        version: `1.0.${FILES}`,
        nodeClass: 'worker',
        dependencies: {},
        artifact: { digest: `sha256:${packageId}`, size, mediaType: 'application/gzip' },
        author: didFromKeyPair(author),
      },
      { keyPair: author },
    );
    await unary((cb) => client.registerPackage({ packageId, manifest, artifactUrl: `griot-content://sha256/${packageId}` }, callerAuth(author, 'griot-registry'), cb));
  } finally {
    client.close();
  }
  return packageId;
}

/** Creates the installation job of `packageId` on the node, as `griot install --node` does. */
async function createInstallation(registryAddress: string, packageId: string, node: Ed25519KeyPair): Promise<void> {
  const client = new registry.RegistryServiceClient(registryAddress, credentials.createInsecure());
  try {
    await unary((cb) => client.createInstallation({ packageId, targetNodeId: didFromKeyPair(node) }, callerAuth(node, 'griot-registry'), cb));
  } finally {
    client.close();
  }
}

/** CPU seconds of this process's waited-for children (cutime + cstime of /proc/self/stat). */
async function childrenCpuSeconds(): Promise<number> {
  const text = await readFile('/proc/self/stat', 'utf8');
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[13]) + Number(fields[14])) / 100;
}

/** How long `tar -xzf artifact -C <fresh folder>` takes and the CPU seconds of tar and its gzip; the folder is removed after. */
async function timeTar(artifact: string, work: string): Promise<{ seconds: number; cpu: number }> {
  const into = await mkdtemp(join(work, 'tar-'));
  const cpu = await childrenCpuSeconds();
  const started = performance.now();
  await run('tar', ['-xzf', artifact, '-C', into]);
  const seconds = (performance.now() - started) / 1000;
  const used = (await childrenCpuSeconds()) - cpu;
  await rm(into, { recursive: true, force: true });
  return { seconds, cpu: used };
}

/** What one agent install measured. */
interface AgentRun {
  /** Claim to completed, in seconds (the agent's timestamps). */
  seconds: number;
  /** Claim to "sha256 verified": download, hash, and the extraction that ran alongside. */
  downloadSeconds: number;
  /** "sha256 verified" to "extracted": what was left of the extraction. */
  extractSeconds: number;
  /** RSS while idle before the claim, in bytes. */
  baseline: number;
  /** Highest RSS sampled during the job. */
  peak: number;
  /** CPU seconds the agent used from the install request to its completed line. */
  agentCpu: number;
  /** CPU seconds the content store used meanwhile. */
  storeCpu: number;
}

/** Starts `griot agent --once` and answers once it waits for a claim. */
async function startAgent(nodeKey: string, root: string, env: Record<string, string>): Promise<{ child: ChildProcess; lines: string[]; waitFor(re: RegExp): Promise<string> }> {
  const profile = process.env.BENCH_PROFILE_DIR ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE_DIR}`] : [];
  const child = spawn(process.execPath, [...process.execArgv, ...profile, CLI, 'agent', '--node', nodeKey, '--root', root, '--once', '--wait-ms', '120000'], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  let notify = (): void => undefined;
  let exited = false;
  child.once('exit', () => {
    exited = true;
    notify();
  });
  for (const stream of [child.stdout!, child.stderr!]) {
    createInterface({ input: stream }).on('line', (line) => {
      lines.push(line);
      notify();
    });
  }
  const waitFor = async (re: RegExp): Promise<string> => {
    for (;;) {
      const found = lines.find((l) => re.test(l));
      if (found !== undefined) return found;
      if (exited) throw new Error(`the agent exited without a line matching ${re}: ${lines.join('\n')}`);
      await new Promise<void>((r) => (notify = r));
    }
  };
  await waitFor(/agent for did:key:/);
  return { child, lines, waitFor };
}

/** The agent's timestamp of a log line (`<ISO time> <line>`), in ms since the epoch. */
function stampOf(line: string): number {
  return Date.parse(line.slice(0, line.indexOf(' ')));
}

/** One install by a fresh agent process into a fresh root. */
async function agentInstall(packageId: string, node: Ed25519KeyPair, nodeKey: string, work: string, env: Record<string, string>, storePid: number, expected: string[]): Promise<AgentRun> {
  const root = await mkdtemp(join(work, 'node-'));
  const agent = await startAgent(nodeKey, root, env);
  try {
    // Idle RSS: after start-up, waiting for its claim; the lowest of a few samples.
    await new Promise((r) => setTimeout(r, 1000));
    let baseline = Infinity;
    for (let i = 0; i < 5; i++) {
      baseline = Math.min(baseline, await rssOf(agent.child.pid!));
      await new Promise((r) => setTimeout(r, 50));
    }
    let peak = baseline;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        peak = Math.max(peak, await rssOf(agent.child.pid!).catch(() => 0));
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    const cpuBefore = [await cpuSecondsOf(agent.child.pid!), await cpuSecondsOf(storePid)];
    await createInstallation(env.GRIOT_REGISTRY!, packageId, node);
    const done = await agent.waitFor(/\] (completed|failed)$/);
    // The agent exits right after this line: read its CPU time at once.
    const agentCpu = (await cpuSecondsOf(agent.child.pid!).catch(() => NaN)) - cpuBefore[0]!;
    const storeCpu = (await cpuSecondsOf(storePid)) - cpuBefore[1]!;
    sampling = false;
    await sampler;
    if (done.endsWith('failed')) throw new Error(`the agent's install failed:\n${agent.lines.join('\n')}`);
    const claimed = stampOf(await agent.waitFor(/claimed by did:key:/));
    const verified = stampOf(await agent.waitFor(/sha256 [0-9a-f]{64} verified/));
    const extracted = stampOf(await agent.waitFor(/: extracted \d+ files/));
    const completed = stampOf(done);
    // A fast install counts only if it installed the same bytes as tar: checked after the timing, every file.
    const installed = await treeDigest(join(root, 'packages', 'bench-install', `1.0.${FILES}`));
    if (installed.join('\n') !== expected.join('\n')) throw new Error(`the agent's install differs from the package's files (${installed.length} entries against ${expected.length})`);
    return { seconds: (completed - claimed) / 1000, downloadSeconds: (verified - claimed) / 1000, extractSeconds: (extracted - verified) / 1000, baseline, peak, agentCpu, storeCpu };
  } finally {
    if (agent.child.exitCode === null) agent.child.kill('SIGTERM');
    await rm(root, { recursive: true, force: true });
  }
}

/** Runs the install benchmark; answers its rows. */
export async function benchInstall(): Promise<BenchRow[]> {
  const loadBefore = loadavg()[0]!.toFixed(2);
  const source = await packageFolder();
  const work = await mkdtemp(join(tmpdir(), 'griot-bench-install-'));
  const databases = [await createPostgresDatabase(), await createPostgresDatabase()];
  const servers: ServerProcess[] = [];
  try {
    const env: Record<string, string> = {};
    const artifact = join(work, 'artifact.tgz');
    // The top-level names, not '.': an entry named './' would be refused as naming no path.
    await run('tar', ['-czf', artifact, '-C', source, 'lib', 'griot.json']);
    const size = (await stat(artifact)).size;
    const entries = FILES + FOLDERS + 2;
    servers.push(
      await startServerProcess(
        'services/content-store/src/main.ts',
        { CONTENT_LISTEN: '127.0.0.1:0', CONTENT_DATABASE_URL: databases[0]!.url, GRIOT_DATA_DIR: join(work, 'content-data'), LOG_LEVEL: 'info' },
        'content store listening',
      ),
    );
    servers.push(
      await startServerProcess(
        'services/registry/src/main.ts',
        { REGISTRY_LISTEN: '127.0.0.1:0', REGISTRY_DATABASE_URL: databases[1]!.url, GRIOT_DATA_DIR: join(work, 'registry-data'), CONTENT_STORE_ADDR: servers[0]!.address, LOG_LEVEL: 'info' },
        'registry listening',
      ),
    );
    env.GRIOT_REGISTRY = servers[1]!.address;
    env.GRIOT_CONTENT = servers[0]!.address;
    const node = generateKeyPair();
    const nodeKey = join(work, 'node.json');
    await writeKeyFile(nodeKey, node);
    const packageId = await publish(artifact, generateKeyPair(), servers[0]!.address, servers[1]!.address);

    // Both sources in the page cache: the artifact tar reads, and the content store's copy of it.
    await readFile(artifact);
    await warmFolder(join(work, 'content-data'));
    // What `tar -xzf` of the artifact gives: the package's folder, byte for byte.
    const expected = await treeDigest(source);
    const tarRuns: { seconds: number; cpu: number }[] = [];
    const agentRuns: AgentRun[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      // Each run starts with no dirty pages of the one before still to write back.
      await run('sync');
      tarRuns.push(await timeTar(artifact, work));
      await run('sync');
      agentRuns.push(await agentInstall(packageId, node, nodeKey, work, env, servers[0]!.pid, expected));
    }
    const tar = Math.min(...tarRuns.map((r) => r.seconds));
    const best = agentRuns.reduce((a, b) => (b.seconds < a.seconds ? b : a));
    const growth = Math.max(...agentRuns.map((r) => r.peak - r.baseline));
    const mib = size / MiB;
    process.stderr.write(
      `install: ${mib.toFixed(0)} MiB artifact, ${entries} entries; tar -xzf ${tarRuns.map((r) => `${r.seconds.toFixed(2)} s (CPU s ${r.cpu.toFixed(2)})`).join(', ')}; ` +
        `agent claim→completed ${agentRuns.map((r) => `${r.seconds.toFixed(2)} s (claim→sha256 verified ${r.downloadSeconds.toFixed(2)}, →extracted ${r.extractSeconds.toFixed(2)}; CPU s agent ${r.agentCpu.toFixed(2)}, content store ${r.storeCpu.toFixed(2)}; RSS ${(r.baseline / MiB).toFixed(0)}→${(r.peak / MiB).toFixed(0)} MiB)`).join(', ')}\n`,
    );
    const load = `load ${loadBefore}→${loadavg()[0]!.toFixed(2)}`;
    return [
      {
        name: `Install ${mib.toFixed(0)} MiB, ${FILES} files: agent claim→completed (claim→verified ${best.downloadSeconds.toFixed(1)} s, then ${best.extractSeconds.toFixed(1)} s; ${load})`,
        value: mib / best.seconds,
        unit: 'MiB/s',
        baseline: { name: 'tar -xzf, local file', value: mib / tar },
        target: '≥ 70% of baseline',
        met: mib / best.seconds >= (mib / tar) * 0.7,
      },
      {
        name: `Install ${mib.toFixed(0)} MiB: agent RSS growth (peak − idle ${(best.baseline / MiB).toFixed(0)} MiB)`,
        value: growth / MiB,
        unit: 'MiB',
        target: '< 64 MiB (flat)',
        met: growth < 64 * MiB,
      },
    ];
  } finally {
    await Promise.all(servers.map((s) => s.stop()));
    for (const db of databases) await db.drop();
    await rm(work, { recursive: true, force: true });
  }
}

if (require.main === module) {
  benchInstall().then(
    (rows) => process.stdout.write(`\n${formatTable(rows)}\n`),
    (err: unknown) => {
      process.stderr.write(`install bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exit(1);
    },
  );
}
