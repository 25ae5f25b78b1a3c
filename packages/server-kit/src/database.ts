/**
 * One database per service: PostgreSQL through knex and `pg` when a URL is
 * given; otherwise the service's database on the embedded PostgreSQL server
 * of the data folder (see embedded-postgres.ts), or, when chosen (and always
 * for `:memory:`), an embedded PGlite database under the data folder (in
 * process, through knex-pglite). Both offer LISTEN/NOTIFY: a dedicated `pg`
 * connection that reconnects by itself, or PGlite's in-process notifications.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import knexFactory, { type Knex } from 'knex';
import ClientPgLite from 'knex-pglite';
import pg from 'pg';
import type { Logger } from 'pino';
import { acquireEmbeddedDatabase, type EmbeddedDatabaseKind } from './embedded-postgres';
import { MemorySessionLocks, PgSessionLocks, type SessionLocks } from './session-locks';

// BIGINT columns hold byte sizes and counts, far below 2^53: read them as numbers.
pg.types.setTypeParser(pg.types.builtins.INT8, (value: string) => Number(value));

/** Where a service's database is. */
export interface DatabaseOptions {
  /** A postgres:// URL; undefined for the embedded database. */
  url?: string;
  /** The folder of embedded databases; `:memory:` keeps the embedded database in memory. */
  dataDir: string;
  /** The service's name, which names its embedded database folder. */
  name: string;
  /** For connection warnings. */
  logger: Logger;
  /** Largest PostgreSQL connection pool (default 10). */
  poolMax?: number;
  /** Which embedded database serves when there is no URL (default `postgres`; `:memory:` is always PGlite). */
  embedded?: EmbeddedDatabaseKind;
}

/** A notification handler: receives the payload. */
export type NotificationHandler = (payload: string) => void;

/** An open database. */
export interface Database {
  /** The knex instance: the only way SQL reaches the database. */
  knex: Knex;
  /** Which kind of database this is. */
  kind: 'postgres' | 'pglite';
  /** Subscribes to a NOTIFY channel; resolves with the unsubscribe function. */
  listen(channel: string, handler: NotificationHandler): Promise<() => Promise<void>>;
  /** Locks this process holds against the other processes on this database. */
  locks: SessionLocks;
  /** Closes every connection. */
  close(): Promise<void>;
}

/** Opens a service's database. */
export async function openDatabase(options: DatabaseOptions): Promise<Database> {
  if (options.url) return openPostgres(options.url, options);
  if (options.dataDir === ':memory:' || options.embedded === 'pglite') return openPglite(options);
  const embedded = await acquireEmbeddedDatabase(options.dataDir, options.name, options.logger);
  try {
    const db = await openPostgres(embedded.url, options);
    return {
      ...db,
      async close() {
        await db.close();
        await embedded.release();
      },
    };
  } catch (err) {
    await embedded.release();
    throw err;
  }
}

/** The one start-up line of a PGlite database in a data folder. */
export const PGLITE_NOT_DURABLE =
  'PGlite never fsyncs: its commits survive a crash of this process but not an OS crash or power loss; use the embedded PostgreSQL server (the default) or a database URL for data that must';

async function openPglite(options: DatabaseOptions): Promise<Database> {
  let pglite: PGlite;
  if (options.dataDir === ':memory:') {
    pglite = new PGlite();
  } else {
    const dir = join(options.dataDir, options.name, 'pgdata');
    mkdirSync(dir, { recursive: true });
    options.logger.warn({ dataDir: dir }, PGLITE_NOT_DURABLE);
    pglite = new PGlite(dir);
  }
  await pglite.waitReady;
  const knex = knexFactory({ client: ClientPgLite as unknown as typeof knexFactory.Client, dialect: 'postgres', connection: () => ({ pglite }) as object });
  return {
    knex,
    kind: 'pglite',
    locks: new MemorySessionLocks(),
    async listen(channel, handler) {
      const unsubscribe = await pglite.listen(channel, handler);
      return async () => unsubscribe();
    },
    async close() {
      await knex.destroy();
      if (!pglite.closed) await pglite.close();
    },
  };
}

async function openPostgres(url: string, options: DatabaseOptions): Promise<Database> {
  const knex = knexFactory({
    client: 'pg',
    connection: { connectionString: url, application_name: `griot-${options.name}` },
    pool: { min: 0, max: options.poolMax ?? 10 },
    acquireConnectionTimeout: 10_000,
  });
  const listener = new PgListener(url, options.logger.child({ component: 'pg-listener' }));
  const locks = new PgSessionLocks(url, `griot-${options.name}-locks`, options.logger.child({ component: 'pg-locks' }));
  return {
    knex,
    kind: 'postgres',
    locks,
    listen: (channel, handler) => listener.listen(channel, handler),
    async close() {
      await locks.close();
      await listener.close();
      await knex.destroy();
    },
  };
}

/**
 * One dedicated connection for LISTEN. When it drops (a PostgreSQL restart),
 * it reconnects with backoff and listens again on every channel.
 */
class PgListener {
  private client?: pg.Client;
  private connecting?: Promise<pg.Client>;
  private readonly handlers = new Map<string, Set<NotificationHandler>>();
  private closed = false;
  private retryMs = 100;

  constructor(
    private readonly url: string,
    private readonly logger: Logger,
  ) {}

  async listen(channel: string, handler: NotificationHandler): Promise<() => Promise<void>> {
    let set = this.handlers.get(channel);
    if (!set) {
      set = new Set();
      this.handlers.set(channel, set);
      const client = await this.connect();
      await client.query(`LISTEN ${quoteIdent(channel)}`);
    }
    set.add(handler);
    return async () => {
      const current = this.handlers.get(channel);
      if (!current) return;
      current.delete(handler);
      if (current.size === 0) {
        this.handlers.delete(channel);
        await this.client?.query(`UNLISTEN ${quoteIdent(channel)}`).catch(() => undefined);
      }
    };
  }

  private connect(): Promise<pg.Client> {
    if (this.client) return Promise.resolve(this.client);
    this.connecting ??= (async () => {
      const client = new pg.Client({ connectionString: this.url, application_name: 'griot-listener' });
      client.on('notification', (n) => {
        for (const handler of this.handlers.get(n.channel) ?? []) handler(n.payload ?? '');
      });
      client.on('error', (err) => this.logger.warn({ err }, 'listen connection failed'));
      client.on('end', () => {
        if (this.client === client) this.client = undefined;
        if (!this.closed) this.scheduleReconnect();
      });
      try {
        await client.connect();
      } finally {
        this.connecting = undefined;
      }
      this.client = client;
      this.retryMs = 100;
      return client;
    })();
    return this.connecting;
  }

  private scheduleReconnect(): void {
    const delay = this.retryMs;
    this.retryMs = Math.min(this.retryMs * 2, 5000);
    setTimeout(() => {
      if (this.closed || this.handlers.size === 0) return;
      this.connect()
        .then(async (client) => {
          for (const channel of this.handlers.keys()) await client.query(`LISTEN ${quoteIdent(channel)}`);
          this.logger.info({ channels: this.handlers.size }, 'listen connection restored');
          for (const handlers of this.handlers.values()) for (const h of handlers) h(RECONNECTED);
        })
        .catch(() => this.scheduleReconnect());
    }, delay).unref();
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.client?.end().catch(() => undefined);
  }
}

/**
 * The payload a listener receives after its connection was restored: the
 * notifications sent while it was down are lost, so it should re-read state.
 */
export const RECONNECTED = '\u0000reconnected';

function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}
