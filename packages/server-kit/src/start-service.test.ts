/**
 * startService: a start that fails at any step (a migration that throws, a
 * listen or admin address in use) closes what it had opened before the error
 * reaches the caller: the database (on PostgreSQL, no connection of the
 * service is left), what the service's build registered, and the listeners;
 * and a stop closes the same.
 */
import { createServer, type Server } from 'node:net';
import type { AddressInfo } from 'node:net';
import pg from 'pg';
import { createPostgresDatabase, DB_KINDS, POSTGRES_ADMIN_URL } from '@griot/test/support/database';
import * as database from './database';
import { silentLogger } from './logger';
import type { MigrationModule } from './migrate';
import { startService, type ServiceConfig, type StartServiceOptions } from './start-service';

const TABLE = 'test_service_migrations';

const createTable: MigrationModule = {
  name: '001_things',
  up: (knex) => knex.schema.createTable('things', (t) => t.text('id').primary()),
  down: (knex) => knex.schema.dropTable('things'),
};

const failing: MigrationModule = {
  name: '002_fails',
  up: async () => {
    throw new Error('migration 002 failed');
  },
  down: async () => undefined,
};

/** A port bound by another server, so that listening on it fails with EADDRINUSE. */
async function takenPort(): Promise<{ address: string; close(): Promise<void> }> {
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { address: `127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

/** The connections open to a database, seen from the administrative one. */
async function connectionsTo(url: string): Promise<number> {
  const client = new pg.Client({ connectionString: POSTGRES_ADMIN_URL });
  await client.connect();
  try {
    const { rows } = await client.query<{ n: string }>('SELECT count(*) AS n FROM pg_stat_activity WHERE datname = $1', [new URL(url).pathname.slice(1)]);
    return Number(rows[0]!.n);
  } finally {
    await client.end();
  }
}

/** Waits until no connection to the database is left (a closed backend leaves pg_stat_activity a moment later), or fails. */
async function expectNoConnections(url: string): Promise<void> {
  const until = Date.now() + 5000;
  let open = await connectionsTo(url);
  while (open > 0 && Date.now() < until) {
    await new Promise((resolve) => setImmediate(resolve));
    open = await connectionsTo(url);
  }
  expect(open).toBe(0);
}

describe.each(DB_KINDS)('startService on %s', (kind) => {
  let url: string | undefined;
  let drop: (() => Promise<void>) | undefined;
  let opened: { closed: boolean }[];
  let spy: jest.SpyInstance;

  beforeEach(async () => {
    if (kind === 'postgres') ({ url, drop } = await createPostgresDatabase());
    opened = [];
    const real = database.openDatabase;
    // Every database startService opens, with whether it was closed.
    spy = jest.spyOn(database, 'openDatabase').mockImplementation(async (options) => {
      const db = await real(options);
      const record = { closed: false };
      opened.push(record);
      return {
        ...db,
        async close() {
          await db.close();
          record.closed = true;
        },
      };
    });
  });

  afterEach(async () => {
    spy.mockRestore();
    await drop?.();
  });

  function options(overrides: Partial<ServiceConfig<'TEST'>> = {}, more: Partial<StartServiceOptions<'TEST'>> = {}): StartServiceOptions<'TEST'> {
    return {
      name: 'test-service',
      title: 'test service',
      prefix: 'TEST',
      config: {
        GRIOT_DATA_DIR: ':memory:',
        GRIOT_EMBEDDED_DATABASE: 'pglite',
        TEST_LISTEN: '127.0.0.1:0',
        TEST_ADMIN_LISTEN: undefined,
        TEST_DATABASE_URL: url,
        TEST_TLS_CERT: undefined,
        TEST_TLS_KEY: undefined,
        TEST_TLS_CLIENT_CA: undefined,
        TEST_PAGE_TOKEN_KEY: Buffer.alloc(32, 7),
        TEST_TOKEN_AUDIENCE: 'griot-test',
        TEST_MAX_TOKEN_SKEW: 30_000,
        TEST_STREAM_IDLE_TIMEOUT: 120_000,
        TEST_MAX_CONNECTION_AGE: 0,
        TEST_MAX_CONNECTION_AGE_GRACE: 10_000,
        ...overrides,
      },
      domain: 'test.griot.dev',
      logger: silentLogger(),
      migrations: [createTable],
      migrationsTable: TABLE,
      build: () => ({ services: [] }),
      ...more,
    };
  }

  async function expectClosed(): Promise<void> {
    expect(opened).toEqual([{ closed: true }]);
    if (url) await expectNoConnections(url);
  }

  it('closes the database when a migration throws, and throws its error', async () => {
    await expect(startService(options({}, { migrations: [createTable, failing] }))).rejects.toThrow('migration 002 failed');
    await expectClosed();
  });

  it('closes the database and what the service opened when the listen address is in use', async () => {
    const taken = await takenPort();
    try {
      const closed: string[] = [];
      const started: string[] = [];
      const failed = startService(
        options(
          { TEST_LISTEN: taken.address },
          {
            build: ({ onClose }) => {
              onClose(() => void closed.push('first'));
              onClose(() => void closed.push('second'));
              return { services: [], start: () => void started.push('sweeper') };
            },
          },
        ),
      );
      await expect(failed).rejects.toThrow(/address|EADDRINUSE|bind/i);
      // Newest first, and the background work never started.
      expect(closed).toEqual(['second', 'first']);
      expect(started).toEqual([]);
      await expectClosed();
    } finally {
      await taken.close();
    }
  });

  it('closes the gRPC server and the database when the admin address is in use, naming the variable', async () => {
    const taken = await takenPort();
    try {
      await expect(startService(options({ TEST_ADMIN_LISTEN: taken.address }))).rejects.toThrow(`TEST_ADMIN_LISTEN ${taken.address}`);
      await expectClosed();
    } finally {
      await taken.close();
    }
  });

  it('closes everything at a graceful stop, after the service has started its background work', async () => {
    const events: string[] = [];
    const running = await startService(
      options(
        { TEST_ADMIN_LISTEN: '127.0.0.1:0' },
        {
          build: ({ onClose }) => {
            onClose(() => void events.push('closed'));
            return { services: [], start: () => void events.push('started') };
          },
        },
      ),
    );
    expect(running.address).toBe(`127.0.0.1:${running.port}`);
    expect((await fetch(`http://${running.adminAddress}/readyz`)).status).toBe(200);
    expect(events).toEqual(['started']);
    await running.stop(1000);
    expect(events).toEqual(['started', 'closed']);
    await expect(fetch(`http://${running.adminAddress}/healthz`)).rejects.toThrow();
    await expectClosed();
  });
});
