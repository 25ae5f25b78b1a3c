/**
 * Jest global setup: the PostgreSQL server the run's tests make their
 * databases on, and the log of skipped suites.
 *
 * The server, in order: `GRIOT_TEST_POSTGRES_URL` when set; else the one
 * answering on 127.0.0.1:5432 (`GRIOT_TEST_POSTGRES_PROBE` names another
 * host:port) as `postgres` without a password; else one private server from
 * the PostgreSQL binaries npm ships (@griot/postgres-server), with fsync off
 * and a temporary data folder, for the whole run. Its URL goes to the workers
 * in `GRIOT_TEST_POSTGRES_URL`. Nothing is started when `GRIOT_TEST_DATABASES`
 * leaves PostgreSQL out. One line on stderr says which server the run uses.
 * The global teardown (global-teardown.ts) stops it and removes its folder.
 */
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { embeddedPostgresAvailable, startPostgresServer } from '@griot/postgres-server';
import pg from 'pg';

/** What the setup brought for the run. */
export interface TestRun {
  /** The line saying which server the run uses. */
  line: string;
  /** Stops what was started and removes its folders (idempotent). */
  close(): Promise<void>;
  /** The skip log, when the setup made it (removed by `close`). */
  ownSkipLog?: string;
}

/** Where the run keeps what the global setup made, for the global teardown (same process). */
export const TEST_RUN_KEY = '__griotTestRun';

const DEFAULT_PROBE = '127.0.0.1:5432';

/** A URL without its password, to print. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return url;
  }
}

/** Whether a PostgreSQL server takes `url`: undefined when it does, else why not. */
async function refusal(url: string): Promise<string | undefined> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('SELECT 1');
    return undefined;
  } catch (err) {
    return (err as Error).message || String(err);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * Picks or starts the run's PostgreSQL server and sets `GRIOT_TEST_POSTGRES_URL`
 * in `env` (the workers inherit process.env). Throws when the run needs
 * PostgreSQL and none can be had.
 */
export async function setUpTestPostgres(env: NodeJS.ProcessEnv = process.env): Promise<TestRun> {
  const kinds = (env.GRIOT_TEST_DATABASES ?? 'postgres,pglite').split(',').map((s) => s.trim());
  if (!kinds.includes('postgres')) {
    return { line: `PostgreSQL for the tests: none (GRIOT_TEST_DATABASES=${env.GRIOT_TEST_DATABASES})`, close: async () => undefined };
  }
  if (env.GRIOT_TEST_POSTGRES_URL) {
    return { line: `PostgreSQL for the tests: GRIOT_TEST_POSTGRES_URL=${redactUrl(env.GRIOT_TEST_POSTGRES_URL)}`, close: async () => undefined };
  }
  const probe = env.GRIOT_TEST_POSTGRES_PROBE || DEFAULT_PROBE;
  const localUrl = `postgres://postgres@${probe}/postgres`;
  const why = await refusal(localUrl);
  if (why === undefined) {
    env.GRIOT_TEST_POSTGRES_URL = localUrl;
    return { line: `PostgreSQL for the tests: the server on ${probe} (${localUrl})`, close: async () => undefined };
  }
  const available = embeddedPostgresAvailable();
  if (!available.ok) {
    throw new Error(
      `The tests need a PostgreSQL server: ${localUrl} answered "${why}", and no private server can start: ${available.reason}. ` +
        'Set GRIOT_TEST_POSTGRES_URL to an administrative URL of a server, or GRIOT_TEST_DATABASES=pglite.',
    );
  }
  const started = Date.now();
  const dir = mkdtempSync(join(tmpdir(), 'griot-test-pg-'));
  let server;
  try {
    chmodSync(dir, 0o711); // As root, the server runs as `postgres`, which must reach its data folder.
    server = await startPostgresServer({ dataDir: join(dir, 'data'), fsync: false });
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  env.GRIOT_TEST_POSTGRES_URL = server.url('postgres');
  const running = server;
  let closed: Promise<void> | undefined;
  return {
    line:
      `PostgreSQL for the tests: a private server on ${server.host}:${server.port} (nothing usable on ${probe}: ${why}), ` +
      `data in ${dir}, started in ${((Date.now() - started) / 1000).toFixed(1)} s`,
    close: () =>
      (closed ??= (async () => {
        try {
          await running.stop();
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      })()),
  };
}

/** The Jest global setup: the run's PostgreSQL server and skip log. */
export default async function globalSetup(): Promise<void> {
  let ownSkipLog: string | undefined;
  if (!process.env.GRIOT_TEST_SKIP_LOG) {
    ownSkipLog = join(mkdtempSync(join(tmpdir(), 'griot-test-skips-')), 'skips.jsonl');
    writeFileSync(ownSkipLog, '');
    process.env.GRIOT_TEST_SKIP_LOG = ownSkipLog;
  }
  const run = await setUpTestPostgres(process.env);
  (globalThis as Record<string, unknown>)[TEST_RUN_KEY] = { ...run, ownSkipLog } satisfies TestRun;
  process.stderr.write(`\n${run.line}\n`);
}
