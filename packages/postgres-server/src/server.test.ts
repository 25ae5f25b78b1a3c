/**
 * The embedded PostgreSQL server on real binaries: it starts on a fresh and
 * on an existing cluster, serves TCP with its password only, keeps its data
 * across restarts, refuses a second server on its folder, and does not
 * outlive a Node.js process that is SIGKILLed.
 */
import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import pg from 'pg';
import { DataFolderInUseError, embeddedPostgresAvailable, PASSWORD_FILE, processAlive, startPostgresServer, type PostgresServer } from './index';
import { waitUntilGone } from '@griot/test/support/kill-tree';

const REPO_ROOT = join(__dirname, '..', '..', '..');

let root: string;
const started: PostgresServer[] = [];
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'griot-pg-server-'));
  // As root the server runs as the user postgres, which must reach the folder (mkdtemp makes it 0700).
  chmodSync(root, 0o755);
});
afterEach(async () => {
  await Promise.all(started.splice(0).map((s) => s.stop()));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

async function start(dataDir: string): Promise<PostgresServer> {
  const server = await startPostgresServer({ dataDir, fsync: false });
  started.push(server);
  return server;
}

async function query<T extends pg.QueryResultRow>(url: string, sql: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(sql)).rows;
  } finally {
    await client.end();
  }
}

it('is available on this machine', () => {
  expect(embeddedPostgresAvailable()).toEqual({ ok: true });
});

it('makes a cluster, creates a database, serves it over TCP with its password only, and stops', async () => {
  const dataDir = join(root, 'fresh');
  const server = await start(dataDir);
  expect(server.host).toBe('127.0.0.1');
  expect(server.url('app')).toBe(`postgres://postgres:${server.password}@127.0.0.1:${server.port}/app`);
  expect(statSync(join(dataDir, PASSWORD_FILE)).mode & 0o777).toBe(0o600);

  await server.createDatabase('app');
  await server.createDatabase('app');
  const [row] = await query<{ db: string; listen: string; auth: string }>(
    server.url('app'),
    "SELECT current_database() AS db, current_setting('listen_addresses') AS listen, current_setting('password_encryption') AS auth",
  );
  expect(row).toEqual({ db: 'app', listen: '127.0.0.1', auth: 'scram-sha-256' });
  await expect(query(`postgres://postgres:wrong@127.0.0.1:${server.port}/app`, 'SELECT 1')).rejects.toThrow(/password authentication failed/);

  await server.stop();
  expect(processAlive(server.pid)).toBe(false);
});

it('keeps its data across a restart', async () => {
  const dataDir = join(root, 'restart');
  const first = await start(dataDir);
  await first.createDatabase('app');
  await query(first.url('app'), 'CREATE TABLE kept (v text); INSERT INTO kept VALUES ($$still here$$)');
  await first.stop();

  const second = await start(dataDir);
  expect(second.password).toBe(first.password);
  expect(await query(second.url('app'), 'SELECT v FROM kept')).toEqual([{ v: 'still here' }]);
});

it('refuses a second server on the same data folder, naming the folder', async () => {
  const dataDir = join(root, 'shared');
  const first = await start(dataDir);
  const second = startPostgresServer({ dataDir, fsync: false });
  await expect(second).rejects.toThrow(DataFolderInUseError);
  await expect(second).rejects.toThrow(`the database folder ${dataDir} is in use by another PostgreSQL server (PID ${first.pid})`);
  // The first one still serves.
  await first.createDatabase('still_serving');
});

it('does not outlive the Node.js process that started it, even when that one is SIGKILLed', async () => {
  const dataDir = join(root, 'orphan');
  const script = `
    const { startPostgresServer } = require(${JSON.stringify(join(__dirname, 'index.ts'))});
    startPostgresServer({ dataDir: ${JSON.stringify(dataDir)}, fsync: false }).then((s) => {
      console.log(JSON.stringify({ pid: s.pid }));
      setInterval(() => {}, 1 << 30);
    });`;
  const holder = spawn(process.execPath, ['--import', 'tsx', '-e', script], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: holder.stdout! }).once('line', resolve);
    holder.once('exit', (code) => reject(new Error(`the holder exited (${code}) before starting the server`)));
  });
  const { pid } = JSON.parse(line) as { pid: number };
  expect(processAlive(pid)).toBe(true);

  holder.kill('SIGKILL');
  await waitUntilGone(pid);

  // The folder is free again, its cluster intact.
  const next = await start(dataDir);
  expect(await query<{ ok: number }>(next.url('postgres'), 'SELECT 1 AS ok')).toEqual([{ ok: 1 }]);
});
