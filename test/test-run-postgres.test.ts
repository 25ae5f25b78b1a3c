/**
 * The test run's own database setup (Jest's global setup and teardown), run
 * as a real process pointed at no server: GRIOT_TEST_POSTGRES_URL unset and
 * nothing listening at the probe address. It brings a private PostgreSQL
 * server whose URL makes and serves databases, prints which server the run
 * uses, and at teardown prints the recorded skip reasons, stops the server
 * and removes its folder.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, appendFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import pg from 'pg';
import { REPO_ROOT } from '@griot/test/support/process';
import { setUpTestPostgres } from '@griot/test/support/global-setup';
import { describeIf, privatePostgres } from '@griot/test/support/tools';

/** A port where nothing listens (bound, then released). */
async function closedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/**
 * Runs the global setup in a process of its own; it prints the environment
 * it set as one JSON line, and runs the global teardown when its stdin gets a line.
 */
const CHILD = `
const setup = require(${JSON.stringify(join(REPO_ROOT, 'test/support/global-setup.ts'))}).default;
const teardown = require(${JSON.stringify(join(REPO_ROOT, 'test/support/global-teardown.ts'))}).default;
(async () => {
  await setup();
  process.stdout.write(JSON.stringify({ url: process.env.GRIOT_TEST_POSTGRES_URL, skipLog: process.env.GRIOT_TEST_SKIP_LOG }) + '\\n');
  process.stdin.once('data', async () => {
    await teardown();
    process.stdout.write('torn down\\n');
    process.stdin.destroy();
  });
})().catch((err) => { console.error(err); process.exit(1); });
`;

function firstLine(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.once('line', resolve);
    child.once('exit', (code) => reject(new Error(`the setup process exited ${code}`)));
  });
}

async function query(url: string, sql: string): Promise<pg.QueryResultRow[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(sql)).rows;
  } finally {
    await client.end();
  }
}

describeIf([privatePostgres()])("the test run's PostgreSQL", () => {
  it('brings a private server when nothing answers, serves databases through the URL it sets, and stops it at teardown', async () => {
    const probe = `127.0.0.1:${await closedPort()}`;
    const env: NodeJS.ProcessEnv = { ...process.env, GRIOT_TEST_DATABASES: 'postgres,pglite', GRIOT_TEST_POSTGRES_PROBE: probe };
    delete env.GRIOT_TEST_POSTGRES_URL;
    delete env.GRIOT_TEST_SKIP_LOG;
    const child = spawn(process.execPath, ['--import', 'tsx', '-e', CHILD], { cwd: REPO_ROOT, env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      const { url, skipLog } = JSON.parse(await firstLine(child)) as { url: string; skipLog: string };

      // One line says which server, and why.
      expect(stderr).toMatch(new RegExp(`PostgreSQL for the tests: a private server on 127\\.0\\.0\\.1:\\d+ \\(nothing usable on ${probe}: .*ECONNREFUSED`));
      const dataDir = /data in (\S+),/.exec(stderr)?.[1];
      expect(dataDir && existsSync(dataDir)).toBe(true);

      // Its URL is an administrative one: a database made through it takes tables and rows.
      expect(url).toMatch(/^postgres:\/\/postgres:[^@]+@127\.0\.0\.1:\d+\/postgres$/);
      await query(url, 'CREATE DATABASE griot_setup_check');
      const dbUrl = url.replace(/\/postgres$/, '/griot_setup_check');
      await query(dbUrl, 'CREATE TABLE t (v text)');
      await query(dbUrl, "INSERT INTO t VALUES ('griot')");
      expect(await query(dbUrl, 'SELECT v FROM t')).toEqual([{ v: 'griot' }]);

      // A suite skipped during the run: the teardown prints it with its reason.
      appendFileSync(skipLog, `${JSON.stringify({ file: 'test/x.test.ts', suite: 'a suite', reasons: ['h2load is not on PATH (apt-get install nghttp2-client)'] })}\n`);
      child.stdin!.write('teardown\n');
      expect(await exited).toBe(0);
      expect(stderr).toContain('Skipped 1 suite, and why:\n  test/x.test.ts "a suite": h2load is not on PATH (apt-get install nghttp2-client)');

      // The server is gone, and so is its folder.
      await expect(query(url, 'SELECT 1')).rejects.toThrow(/ECONNREFUSED/);
      expect(existsSync(dataDir!)).toBe(false);
      expect(existsSync(skipLog)).toBe(false);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  }, 120_000);

  it('starts nothing when GRIOT_TEST_DATABASES leaves PostgreSQL out, and takes GRIOT_TEST_POSTGRES_URL as given', async () => {
    const probe = `127.0.0.1:${await closedPort()}`;
    const pgliteOnly: NodeJS.ProcessEnv = { GRIOT_TEST_DATABASES: 'pglite', GRIOT_TEST_POSTGRES_PROBE: probe };
    const none = await setUpTestPostgres(pgliteOnly);
    expect(none.line).toBe('PostgreSQL for the tests: none (GRIOT_TEST_DATABASES=pglite)');
    expect(pgliteOnly.GRIOT_TEST_POSTGRES_URL).toBeUndefined();

    const given: NodeJS.ProcessEnv = { GRIOT_TEST_POSTGRES_URL: 'postgres://me:secret@db.example:5433/postgres', GRIOT_TEST_POSTGRES_PROBE: probe };
    const taken = await setUpTestPostgres(given);
    expect(taken.line).toBe('PostgreSQL for the tests: GRIOT_TEST_POSTGRES_URL=postgres://me:***@db.example:5433/postgres');
    expect(given.GRIOT_TEST_POSTGRES_URL).toBe('postgres://me:secret@db.example:5433/postgres');
  });
});
