/**
 * Which embedded database reaches the disk. The default, the embedded
 * PostgreSQL server, runs with fsync, synchronous commits and full-page
 * writes on, and (traced with strace) each acknowledged commit is followed by
 * an fsync or fdatasync of the WAL. PGlite never fsyncs: opening it on a data
 * folder logs one line saying so (and the README says it); in memory it
 * logs nothing.
 */
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import pino from 'pino';
import { openDatabase, PGLITE_NOT_DURABLE } from './database';
import { acquireEmbeddedDatabase } from './embedded-postgres';

function capturingLogger(): { logger: pino.Logger; lines: { level: number; msg: string }[] } {
  const lines: { level: number; msg: string }[] = [];
  const logger = pino({ level: 'info' }, { write: (s: string) => void lines.push(JSON.parse(s) as { level: number; msg: string }) });
  return { logger, lines };
}

const STRACE = ['/usr/bin/strace', '/bin/strace'].find((p) => existsSync(p));

describe('the embedded PostgreSQL server (the default)', () => {
  let dataDir: string;
  beforeAll(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'griot-durability-'));
    // Started as root, the server runs as `postgres`, which must reach the folder.
    chmodSync(dataDir, 0o755);
  });
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('runs with fsync, synchronous commits and full-page writes on, and says nothing about PGlite', async () => {
    const { logger, lines } = capturingLogger();
    const db = await openDatabase({ dataDir, name: 'registry', logger });
    try {
      const show = async (name: string) => ((await db.knex.raw<{ rows: Record<string, string>[] }>(`SHOW ${name}`)).rows[0]![name]);
      expect({ fsync: await show('fsync'), synchronous_commit: await show('synchronous_commit'), full_page_writes: await show('full_page_writes') }).toEqual({
        fsync: 'on',
        synchronous_commit: 'on',
        full_page_writes: 'on',
      });
      expect(lines.some((l) => l.msg === PGLITE_NOT_DURABLE)).toBe(false);
    } finally {
      await db.close();
    }
  });

  if (STRACE) {
    it('fsyncs the WAL at every acknowledged commit (strace)', async () => {
      const { logger } = capturingLogger();
      const embedded = await acquireEmbeddedDatabase(dataDir, 'registry', logger);
      const traceFile = join(dataDir, 'strace.out');
      try {
        const pid = readFileSync(join(dataDir, 'postgres', 'postmaster.pid'), 'utf8').split('\n')[0]!.trim();
        const strace = spawn(STRACE, ['-f', '-p', pid, '-e', 'trace=fsync,fdatasync', '-o', traceFile], { stdio: ['ignore', 'ignore', 'pipe'] });
        // Wait until strace says it is attached (its first line on stderr).
        await new Promise<void>((resolve, reject) => {
          strace.once('error', reject);
          strace.stderr.once('data', () => resolve());
        });
        const exited = new Promise((resolve) => strace.once('exit', resolve));
        // A connection made now is a child of the traced postmaster.
        const client = new pg.Client({ connectionString: embedded.url });
        await client.connect();
        await client.query('CREATE TABLE IF NOT EXISTS durability_probe (n INTEGER)');
        const commits = 20;
        for (let i = 0; i < commits; i++) await client.query('INSERT INTO durability_probe VALUES ($1)', [i]);
        await client.end();
        strace.kill('SIGINT');
        await exited;
        const syncs = readFileSync(traceFile, 'utf8')
          .split('\n')
          .filter((l) => /\b(fsync|fdatasync)\(\d+\)\s+= 0/.test(l));
        expect(syncs.length).toBeGreaterThanOrEqual(commits);
      } finally {
        await embedded.release();
      }
    });
  }
});

describe('PGlite (GRIOT_EMBEDDED_DATABASE=pglite)', () => {
  it('logs one line at start-up saying its data folder does not reach the disk, and none in memory', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'griot-pglite-'));
    try {
      const onDisk = capturingLogger();
      const db = await openDatabase({ dataDir, name: 'registry', logger: onDisk.logger, embedded: 'pglite' });
      await db.close();
      expect(onDisk.lines.filter((l) => l.msg === PGLITE_NOT_DURABLE)).toHaveLength(1);
      expect(PGLITE_NOT_DURABLE).toMatch(/never fsyncs.*power loss/);

      const inMemory = capturingLogger();
      const memory = await openDatabase({ dataDir: ':memory:', name: 'registry', logger: inMemory.logger, embedded: 'pglite' });
      await memory.close();
      expect(inMemory.lines.filter((l) => l.msg === PGLITE_NOT_DURABLE)).toHaveLength(0);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
