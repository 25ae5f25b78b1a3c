/**
 * A private PostgreSQL server for fault tests that stop and start it: its own
 * data folder and port, so restarting it never disturbs the machine's server
 * that other suites use. Runs as the `postgres` user (initdb refuses root).
 */
import { execFileSync } from 'node:child_process';
import { chownSync, mkdtempSync, rmSync, chmodSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const BIN = '/usr/lib/postgresql/15/bin';

/** A private PostgreSQL server. */
export interface PrivatePostgres {
  /** `postgres://postgres@127.0.0.1:PORT/postgres`. */
  adminUrl: string;
  /** A URL to a database of that name on this server. */
  urlFor(database: string): string;
  /** Creates a database. */
  createDatabase(name: string): void;
  /** Stops the server at once (fast shutdown: connections are cut). */
  stop(): void;
  /** Starts it again on the same port. */
  start(): void;
  /** Stops it and deletes its data. */
  destroy(): void;
}

/** Whether this machine can run a private server (PostgreSQL 15 binaries and a postgres user). */
export function canRunPrivatePostgres(): boolean {
  try {
    execFileSync('id', ['postgres'], { stdio: 'pipe' });
    execFileSync(join(BIN, 'pg_ctl'), ['--version'], { stdio: 'pipe' });
    return true;
  } catch {
    return false;
  }
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

function asPostgres(cmd: string, args: string[]): void {
  execFileSync('runuser', ['-u', 'postgres', '--', cmd, ...args], { stdio: 'pipe' });
}

/** Initializes and starts a private server on a free port. */
export async function startPrivatePostgres(): Promise<PrivatePostgres> {
  const dir = mkdtempSync(join(tmpdir(), 'griot-pg-'));
  chmodSync(dir, 0o700);
  const { uid, gid } = { uid: Number(execFileSync('id', ['-u', 'postgres']).toString()), gid: Number(execFileSync('id', ['-g', 'postgres']).toString()) };
  chownSync(dir, uid, gid);
  const data = join(dir, 'data');
  const port = await freePort();
  asPostgres(join(BIN, 'initdb'), ['-D', data, '-U', 'postgres', '-A', 'trust', '--no-sync']);
  const start = () =>
    asPostgres(join(BIN, 'pg_ctl'), ['-D', data, '-w', '-t', '30', '-l', join(dir, 'log'), '-o', `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`, 'start']);
  const stop = () => asPostgres(join(BIN, 'pg_ctl'), ['-D', data, '-w', '-m', 'fast', 'stop']);
  start();
  const urlFor = (database: string) => `postgres://postgres@127.0.0.1:${port}/${database}`;
  return {
    adminUrl: urlFor('postgres'),
    urlFor,
    createDatabase(name) {
      asPostgres(join(BIN, 'psql'), ['-h', dir, '-p', String(port), '-U', 'postgres', '-c', `CREATE DATABASE ${name}`]);
    },
    stop,
    start,
    destroy() {
      try {
        stop();
      } catch {
        // Already stopped.
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
