/**
 * Session locks: in memory for the embedded database, and PostgreSQL
 * advisory locks shared by every process on one database, released at once
 * when the holding connection goes.
 */
import pg from 'pg';
import { silentLogger } from './logger';
import { MemorySessionLocks, PgSessionLocks, SessionLockLostError, type SessionLocks } from './session-locks';
import { createPostgresDatabase } from '@griot/test/support/database';
import { describeIf, postgresKind } from '@griot/test/support/tools';

async function expectExclusive(a: SessionLocks, b: SessionLocks): Promise<void> {
  const signal = await a.tryLock('upload:1');
  expect(signal).toBeInstanceOf(AbortSignal);
  expect(signal!.aborted).toBe(false);
  // Neither another holder nor the same one may take it again.
  expect(await b.tryLock('upload:1')).toBeUndefined();
  expect(await a.tryLock('upload:1')).toBeUndefined();
  // Other names are independent.
  expect(await b.tryLock('upload:2')).toBeDefined();
  await a.unlock('upload:1');
  expect(await b.tryLock('upload:1')).toBeDefined();
}

describe('MemorySessionLocks', () => {
  it('holds each name once until it is released', async () => {
    const locks = new MemorySessionLocks();
    await expectExclusive(locks, locks);
    await locks.close();
  });
});

describeIf([postgresKind()])('PgSessionLocks', () => {
  let db: { url: string; drop(): Promise<void> };
  let a: PgSessionLocks;
  let b: PgSessionLocks;

  beforeEach(async () => {
    db = await createPostgresDatabase();
    a = new PgSessionLocks(db.url, 'griot-test-locks-a', silentLogger());
    b = new PgSessionLocks(db.url, 'griot-test-locks-b', silentLogger());
  });

  afterEach(async () => {
    await a.close();
    await b.close();
    await db.drop();
  });

  it('excludes the other processes on the database, and the holder itself', async () => {
    await expectExclusive(a, b);
    // Releasing what one does not hold changes nothing.
    await a.unlock('upload:1');
    expect(await a.tryLock('upload:1')).toBeUndefined();
  });

  it('gives a name to one of two takers racing in one process', async () => {
    const results = await Promise.all([a.tryLock('race'), a.tryLock('race'), a.tryLock('race')]);
    expect(results.filter((r) => r !== undefined)).toHaveLength(1);
  });

  it('releases every lock when the holder closes', async () => {
    await a.tryLock('x');
    await a.tryLock('y');
    await a.close();
    expect(await b.tryLock('x')).toBeDefined();
    expect(await b.tryLock('y')).toBeDefined();
  });

  it('tells the holders when the connection drops, and the locks are free for others at once', async () => {
    const signal = (await a.tryLock('held'))!;
    const admin = new pg.Client({ connectionString: db.url });
    await admin.connect();
    try {
      const { rowCount } = await admin.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'griot-test-locks-a'");
      expect(rowCount).toBe(1);
    } finally {
      await admin.end();
    }
    await new Promise<void>((resolve) => (signal.aborted ? resolve() : signal.addEventListener('abort', () => resolve(), { once: true })));
    expect(signal.reason).toBeInstanceOf(SessionLockLostError);
    expect(await b.tryLock('held')).toBeDefined();
    // The holder connects again for the next lock.
    expect(await a.tryLock('other')).toBeDefined();
  });
});
