/**
 * Named locks that a process holds until it releases them or dies, so that
 * replicas sharing one database never work on the same thing at once.
 *
 * On PostgreSQL they are session advisory locks, all taken on one dedicated
 * connection: another replica cannot take a lock this process holds, and the
 * locks of a process that crashed go with its connection, at once, without a
 * lease to wait out. If that connection drops, every lock taken on it is lost:
 * each holder is told through the signal its lock came with. The embedded
 * database is only ever opened by one process, so its locks live in memory.
 */
import pg from 'pg';
import type { Logger } from 'pino';

// A lock's name is hashed to the 64-bit key PostgreSQL's advisory locks take.
const TRY_LOCK_SQL = 'SELECT pg_try_advisory_lock(hashtextextended($1, 0)) AS ok';
const UNLOCK_SQL = 'SELECT pg_advisory_unlock(hashtextextended($1, 0))';

/** Locks held by this process. */
export interface SessionLocks {
  /**
   * Takes `name` if no process (this one included) holds it.
   *
   * @returns A signal that aborts if the lock is lost before it is released,
   *   or undefined when the lock is held elsewhere.
   */
  tryLock(name: string): Promise<AbortSignal | undefined>;
  /** Releases a lock this process holds; nothing happens for one it does not. */
  unlock(name: string): Promise<void>;
  /** Releases every lock (and closes the connection). */
  close(): Promise<void>;
}

/** Thrown as the abort reason of a lock whose connection dropped. */
export class SessionLockLostError extends Error {
  constructor(readonly lockName: string) {
    super(`lost the lock "${lockName}": the connection that held it dropped`);
    this.name = 'SessionLockLostError';
  }
}

/** Locks for one process alone (the embedded database). */
export class MemorySessionLocks implements SessionLocks {
  private readonly held = new Map<string, AbortController>();

  /** {@inheritDoc SessionLocks.tryLock} */
  async tryLock(name: string): Promise<AbortSignal | undefined> {
    if (this.held.has(name)) return undefined;
    const controller = new AbortController();
    this.held.set(name, controller);
    return controller.signal;
  }

  /** {@inheritDoc SessionLocks.unlock} */
  async unlock(name: string): Promise<void> {
    this.held.delete(name);
  }

  /** {@inheritDoc SessionLocks.close} */
  async close(): Promise<void> {
    this.held.clear();
  }
}

/** PostgreSQL session advisory locks on one dedicated connection, opened on first use. */
export class PgSessionLocks implements SessionLocks {
  private client: pg.Client | undefined;
  private connecting: Promise<pg.Client> | undefined;
  /** Locks held or being taken, each with the controller that tells its holder it was lost. */
  private readonly held = new Map<string, AbortController>();
  private closed = false;

  /**
   * @param url - The database's postgres:// URL.
   * @param applicationName - Shown in pg_stat_activity.
   * @param logger - Warned when the connection drops.
   */
  constructor(
    private readonly url: string,
    private readonly applicationName: string,
    private readonly logger: Logger,
  ) {}

  /** {@inheritDoc SessionLocks.tryLock} */
  async tryLock(name: string): Promise<AbortSignal | undefined> {
    if (this.closed) throw new Error('the session locks are closed');
    // PostgreSQL lets a session take its own lock again: this process's own holders are checked here.
    if (this.held.has(name)) return undefined;
    const controller = new AbortController();
    this.held.set(name, controller);
    let taken = false;
    try {
      const client = await this.connection();
      const { rows } = await client.query<{ ok: boolean }>(TRY_LOCK_SQL, [name]);
      if (!rows[0]?.ok) return undefined;
      // Still ours only if the connection did not drop, and the locks were not closed, while asking.
      taken = this.client === client && this.held.get(name) === controller;
      if (!taken) await client.query(UNLOCK_SQL, [name]).catch(() => undefined);
      return taken ? controller.signal : undefined;
    } finally {
      if (!taken && this.held.get(name) === controller) this.held.delete(name);
    }
  }

  /** {@inheritDoc SessionLocks.unlock} */
  async unlock(name: string): Promise<void> {
    if (!this.held.delete(name)) return;
    await this.client?.query(UNLOCK_SQL, [name]).catch(() => undefined);
  }

  /** {@inheritDoc SessionLocks.close} */
  async close(): Promise<void> {
    this.closed = true;
    this.held.clear();
    const client = this.client ?? (await this.connecting?.catch(() => undefined));
    this.client = undefined;
    // Ending the session releases every lock it holds.
    await client?.end().catch(() => undefined);
  }

  private connection(): Promise<pg.Client> {
    if (this.client) return Promise.resolve(this.client);
    this.connecting ??= (async () => {
      // TCP keepalive: a connection that died silently (a dropped route, an idle timeout) is noticed, and its holders told.
      const client = new pg.Client({ connectionString: this.url, application_name: this.applicationName, keepAlive: true, keepAliveInitialDelayMillis: 10_000 });
      client.on('error', (err) => this.logger.warn({ err }, 'lock connection failed'));
      client.on('end', () => this.lost(client));
      try {
        await client.connect();
      } finally {
        this.connecting = undefined;
      }
      this.client = client;
      return client;
    })();
    return this.connecting;
  }

  /** The connection ended: every lock taken on it is gone, and its holders are told. */
  private lost(client: pg.Client): void {
    if (this.client !== client) return;
    this.client = undefined;
    if (this.closed) return;
    const lost = [...this.held];
    this.held.clear();
    if (lost.length > 0) this.logger.warn({ locks: lost.length }, 'the lock connection dropped; the locks it held are released');
    for (const [name, controller] of lost) controller.abort(new SessionLockLostError(name));
  }
}
