/**
 * A private PostgreSQL server for fault tests that stop and start it: its own
 * data folder and port, so restarting it never disturbs the server that other
 * suites use. The binaries are npm's (@griot/postgres-server, which runs them
 * as the `postgres` user when the tests run as root).
 */
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { embeddedPostgresAvailable, startPostgresServer, type PostgresServer } from '@griot/postgres-server';

/** A private PostgreSQL server. */
export interface PrivatePostgres {
  /** `postgres://postgres:PASSWORD@127.0.0.1:PORT/postgres`. */
  adminUrl: string;
  /** A URL to a database of that name on this server. */
  urlFor(database: string): string;
  /** Creates a database. */
  createDatabase(name: string): Promise<void>;
  /** Stops the server (fast shutdown: connections are cut) and waits for it to exit. */
  stop(): Promise<void>;
  /** Starts it again on the same port and data. */
  start(): Promise<void>;
  /** Stops it and deletes its data. */
  destroy(): Promise<void>;
}

/** Whether this machine can run a private server (the PostgreSQL binaries from npm). */
export function canRunPrivatePostgres(): boolean {
  return embeddedPostgresAvailable().ok;
}

/** Initializes and starts a private server on a free port. */
export async function startPrivatePostgres(): Promise<PrivatePostgres> {
  const dir = mkdtempSync(join(tmpdir(), 'griot-pg-'));
  chmodSync(dir, 0o711); // As root, the server runs as `postgres`, which must reach its data folder.
  const dataDir = join(dir, 'data');
  let server: PostgresServer | undefined;
  try {
    server = await startPostgresServer({ dataDir, fsync: false });
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  // The URLs stay the same across restarts: same port, and the password is kept in the data folder.
  const first = server;
  const port = first.port;
  const urlFor = (database: string) => first.url(database);
  const stop = async () => {
    const running = server;
    server = undefined;
    await running?.stop();
  };
  return {
    adminUrl: urlFor('postgres'),
    urlFor,
    createDatabase: (name) => {
      if (!server) throw new Error('the private PostgreSQL server is stopped');
      return server.createDatabase(name);
    },
    stop,
    async start() {
      if (server) throw new Error('the private PostgreSQL server is already running');
      server = await startPostgresServer({ dataDir, port, fsync: false });
    },
    async destroy() {
      try {
        await stop();
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
