/**
 * A private PostgreSQL server: its cluster in one data folder (made by initdb
 * on first start), TCP on 127.0.0.1 only with scram-sha-256 and a random
 * password, no Unix socket. It lives no longer than the Node.js process that
 * started it: a tiny `sh` watchdog reads a pipe from this process and, when
 * the pipe closes (this process exited or was killed), shuts the server down.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chownSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { basename, dirname, join, resolve } from 'node:path';
import pg from 'pg';
import pino, { type Logger } from 'pino';
import { findBinaries, type Binaries } from './binaries';
import { assertReachable, chownTree, serverUser, type RunAs } from './run-as';

/** How to start a server. */
export interface PostgresServerOptions {
  /** The cluster's folder (initdb'd on first start when missing or empty). */
  dataDir: string;
  /** 0 or undefined = a free port chosen at start. */
  port?: number;
  /** Default true; tests pass false (no fsync, no synchronous commit, no full-page writes). */
  fsync?: boolean;
  /** The server's own output goes here at debug. */
  logger?: Logger;
  /** Extra settings, each passed as `-c name=value`. */
  settings?: Record<string, string>;
}

/** A running server. */
export interface PostgresServer {
  /** Always 127.0.0.1. */
  readonly host: string;
  readonly port: number;
  /** The superuser: `postgres`. */
  readonly user: string;
  /** Random, kept in a 0600 file in the data folder. */
  readonly password: string;
  /** The postmaster's process id. */
  readonly pid: number;
  /** `postgres://postgres:PASSWORD@127.0.0.1:PORT/DATABASE`. */
  url(database: string): string;
  /** Creates a database unless it exists. */
  createDatabase(name: string): Promise<void>;
  /** Fast shutdown (SIGINT); resolves once the postmaster has exited. */
  stop(): Promise<void>;
  /** SIGKILL of the postmaster, without waiting (fault tests). */
  kill(): void;
}

/** The data folder is in use by another server: another process runs on it. */
export class DataFolderInUseError extends Error {
  constructor(
    readonly dataDir: string,
    readonly otherPid: number | undefined,
  ) {
    super(
      `the database folder ${dataDir} is in use by another PostgreSQL server${otherPid ? ` (PID ${otherPid})` : ''}: ` +
        'another process (a second griot on the same GRIOT_DATA_DIR?) is running on it; stop it or choose another data folder',
    );
    this.name = 'DataFolderInUseError';
  }
}

const HOST = '127.0.0.1';
const SUPERUSER = 'postgres';
/** The superuser's password, beside the cluster's files. */
export const PASSWORD_FILE = 'griot-password';
const READY_LINE = 'database system is ready to accept connections';

/**
 * Runs in `sh`, stdin a pipe from this process: at EOF (this process is
 * gone), a fast shutdown of the postmaster, waited for; after 30 s, an
 * immediate shutdown. It ignores the terminal's signals: it is killed by
 * this process when no longer needed.
 */
const WATCHDOG = `
trap '' INT HUP TERM QUIT
while read -r _; do :; done
kill -INT "$1" 2>/dev/null
i=0
while kill -0 "$1" 2>/dev/null; do
  i=$((i + 1))
  [ "$i" -eq 300 ] && kill -QUIT "$1" 2>/dev/null
  sleep 0.1
done
`;

/**
 * Starts a server on `options.dataDir`, making the cluster first when there is none.
 *
 * @throws DataFolderInUseError - when another server runs on the data folder.
 */
export async function startPostgresServer(options: PostgresServerOptions): Promise<PostgresServer> {
  const logger = options.logger ?? pino({ level: 'silent' });
  const binaries = findBinaries();
  const dataDir = resolve(options.dataDir);
  const user = serverUser();
  mkdirSync(dirname(dataDir), { recursive: true });
  assertReachable(dirname(dataDir), user);
  if (!isCluster(dataDir)) initCluster(binaries, dataDir, user, options.fsync ?? true, logger);
  else if (user.uid !== undefined && statSync(dataDir).uid !== user.uid) chownTree(dataDir, user);
  const password = readFileSync(join(dataDir, PASSWORD_FILE), 'utf8').trim();
  for (let attempt = 1; ; attempt++) {
    const port = options.port || (await freePort());
    try {
      return await launch(binaries, dataDir, port, password, user, options, logger);
    } catch (err) {
      // A port taken between choosing and binding, or the shared memory of a killed server's last backends: both pass.
      const transient = (err instanceof PortInUseError && !options.port) || err instanceof SharedMemoryInUseError;
      if (!transient || attempt >= 50) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

class PortInUseError extends Error {}
class SharedMemoryInUseError extends Error {}

function isCluster(dataDir: string): boolean {
  if (existsSync(join(dataDir, 'PG_VERSION'))) return true;
  if (existsSync(dataDir) && readdirSync(dataDir).length > 0) {
    throw new Error(`${dataDir} is not empty but holds no PostgreSQL cluster (no PG_VERSION): move it away or choose another data folder`);
  }
  return false;
}

/**
 * Makes the cluster in a folder beside the data folder and renames it into
 * place once complete, so that a start killed half-way leaves no half-made
 * cluster behind (and two starts at once make one).
 */
function initCluster(binaries: Binaries, dataDir: string, user: RunAs, fsync: boolean, logger: Logger): void {
  removeAbandonedStaging(dataDir);
  const staging = `${dataDir}.initdb-${process.pid}`;
  const passwordFile = `${staging}.password`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { mode: 0o700 });
  const password = randomBytes(24).toString('hex');
  try {
    writeFileSync(passwordFile, `${password}\n`, { mode: 0o600 });
    chownTree(staging, user);
    chownTree(passwordFile, user);
    const args = ['-D', staging, '-U', SUPERUSER, '--auth=scram-sha-256', `--pwfile=${passwordFile}`, '-E', 'UTF8', '--locale=C', '--no-instructions'];
    if (!fsync) args.push('--no-sync');
    const started = Date.now();
    const run = spawnSync(binaries.initdb, args, { uid: user.uid, gid: user.gid, cwd: staging, encoding: 'utf8', env: { ...process.env, LC_ALL: 'C' } });
    if (run.status !== 0) {
      throw new Error(`initdb failed for ${dataDir}: ${(run.stderr || run.error?.message || `exit ${run.status}`).trim()}`);
    }
    logger.debug({ dataDir, ms: Date.now() - started }, 'initdb done');
    writeFileSync(join(staging, PASSWORD_FILE), `${password}\n`, { mode: 0o600 });
    if (user.uid !== undefined && user.gid !== undefined) chownSync(join(staging, PASSWORD_FILE), user.uid, user.gid);
    try {
      if (existsSync(dataDir)) rmdirSync(dataDir);
      renameSync(staging, dataDir);
    } catch (err) {
      // Another start made the cluster first: use that one.
      if (!existsSync(join(dataDir, 'PG_VERSION'))) throw err;
    }
  } finally {
    rmSync(staging, { recursive: true, force: true });
    rmSync(passwordFile, { force: true });
  }
}

/** Staging folders of starts that were killed while making the cluster. */
function removeAbandonedStaging(dataDir: string): void {
  const prefix = `${basename(dataDir)}.initdb-`;
  for (const name of readdirSync(dirname(dataDir))) {
    if (!name.startsWith(prefix)) continue;
    const pid = Number(name.slice(prefix.length).replace(/\.password$/, ''));
    if (Number.isInteger(pid) && pid !== process.pid && !processAlive(pid)) rmSync(join(dirname(dataDir), name), { recursive: true, force: true });
  }
}

/** True while a process with this pid exists (one of another user's counts: signalling it is refused, not unknown). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, HOST, () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolvePort(port));
    });
  });
}

function settingsArgs(port: number, options: PostgresServerOptions): string[] {
  const settings: Record<string, string> = {
    listen_addresses: HOST,
    port: String(port),
    unix_socket_directories: '',
    lc_messages: 'C',
    ...(options.fsync === false ? { fsync: 'off', synchronous_commit: 'off', full_page_writes: 'off' } : {}),
    ...options.settings,
  };
  return Object.entries(settings).flatMap(([name, value]) => ['-c', `${name}=${value}`]);
}

async function launch(binaries: Binaries, dataDir: string, port: number, password: string, user: RunAs, options: PostgresServerOptions, logger: Logger): Promise<PostgresServer> {
  // Its own session: a terminal's Ctrl-C reaches the Node.js process, which stops the server after the services.
  const child = spawn(binaries.postgres, ['-D', dataDir, ...settingsArgs(port, options)], {
    uid: user.uid,
    gid: user.gid,
    cwd: dataDir,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const watchdog = child.pid === undefined ? undefined : startWatchdog(child.pid);
  const exited = new Promise<void>((resolveExit) => {
    child.once('exit', () => {
      watchdog?.kill('SIGKILL');
      resolveExit();
    });
    child.once('error', () => resolveExit());
  });
  let running = false;
  const recent: string[] = [];
  const ready = new Promise<void>((resolveReady, reject) => {
    const onLine = (line: string) => {
      logger.debug({ postgres: line }, 'postgres');
      recent.push(line);
      if (recent.length > 30) recent.shift();
      if (line.includes(READY_LINE)) resolveReady();
    };
    lines(child, onLine);
    child.once('error', (err) => reject(new Error(`cannot run ${binaries.postgres}: ${err.message}`)));
    child.once('exit', (code, signal) => reject(startFailure(dataDir, recent, code, signal)));
  });
  try {
    await ready;
  } catch (err) {
    watchdog?.kill('SIGKILL');
    throw err;
  }
  running = true;
  child.once('exit', (code, signal) => {
    if (running) logger.error({ code, signal, dataDir }, 'the embedded PostgreSQL server exited');
  });
  child.unref();
  for (const stream of [child.stdout, child.stderr]) (stream as unknown as { unref?: () => void } | null)?.unref?.();
  const pid = child.pid as number;
  const url = (database: string) => `postgres://${SUPERUSER}:${encodeURIComponent(password)}@${HOST}:${port}/${encodeURIComponent(database)}`;
  logger.debug({ dataDir, port, pid }, 'embedded PostgreSQL server ready');
  return {
    host: HOST,
    port,
    user: SUPERUSER,
    password,
    pid,
    url,
    async createDatabase(name) {
      const client = new pg.Client({ connectionString: url('postgres') });
      await client.connect();
      try {
        const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
        if (rowCount) return;
        await client.query(`CREATE DATABASE "${name.replace(/"/g, '""')}"`).catch((err: { code?: string }) => {
          // Created by another caller meanwhile.
          if (err.code !== '42P04' && err.code !== '23505') throw err;
        });
      } finally {
        await client.end();
      }
    },
    async stop() {
      running = false;
      watchdog?.kill('SIGKILL');
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGINT');
        const escalate = setTimeout(() => child.kill('SIGQUIT'), 30_000);
        await exited;
        clearTimeout(escalate);
      }
    },
    kill() {
      running = false;
      watchdog?.kill('SIGKILL');
      child.kill('SIGKILL');
    },
  };
}

/** The watchdog: holds the read end of a pipe from this process, which closes when this process goes. */
function startWatchdog(pid: number): ChildProcess {
  const watchdog = spawn('sh', ['-c', WATCHDOG, 'griot-postgres-watchdog', String(pid)], { stdio: ['pipe', 'ignore', 'ignore'], detached: true });
  watchdog.on('error', () => undefined);
  watchdog.unref();
  (watchdog.stdin as unknown as { unref?: () => void } | null)?.unref?.();
  return watchdog;
}

function lines(child: ChildProcess, onLine: (line: string) => void): void {
  for (const stream of [child.stdout, child.stderr]) {
    let rest = '';
    stream?.setEncoding('utf8');
    stream?.on('data', (chunk: string) => {
      const parts = (rest + chunk).split('\n');
      rest = parts.pop() ?? '';
      for (const line of parts) if (line) onLine(line);
    });
  }
}

/** Translates the postmaster's last words into an error. */
function startFailure(dataDir: string, recent: string[], code: number | null, signal: NodeJS.Signals | null): Error {
  const text = recent.join('\n');
  if (/lock file "postmaster\.pid" already exists/.test(text)) {
    const pid = /\(PID (\d+)\)/.exec(text)?.[1];
    return new DataFolderInUseError(dataDir, pid ? Number(pid) : undefined);
  }
  if (/could not bind IPv4 address|could not create any TCP\/IP sockets|Address already in use/.test(text)) return new PortInUseError(`the port is in use: ${text}`);
  if (/pre-existing shared memory block/.test(text)) return new SharedMemoryInUseError(text);
  return new Error(`PostgreSQL did not start on ${dataDir} (exit ${code ?? signal}):\n${text}`);
}
