/**
 * The embedded default: one private PostgreSQL server per data folder
 * (`GRIOT_DATA_DIR/postgres`), shared by the services of one process, each
 * with a database of its own. It starts with the first service that needs
 * it and stops when the last one closes its database; it never outlives the
 * process (see @griot/postgres-server).
 */
import { existsSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { startPostgresServer, type PostgresServer } from '@griot/postgres-server';
import type { Logger } from 'pino';
import { ConfigError, type Parser } from './config';

/** Which database a service with no URL uses. */
export type EmbeddedDatabaseKind = 'postgres' | 'pglite';

/** `GRIOT_EMBEDDED_DATABASE`: `postgres` (default) or `pglite`. */
export function embeddedDatabaseVar(): Parser<EmbeddedDatabaseKind> {
  return (raw, name) => {
    const value = raw?.trim() || 'postgres';
    if (value !== 'postgres' && value !== 'pglite') throw new ConfigError(name, `is "${value}" but must be postgres or pglite`);
    return value;
  };
}

/**
 * Settings of the embedded server, chosen by measurement for a laptop: a
 * small shared buffer pool and few connections (two services with pools of
 * at most 10, a listener and a lock connection each). fsync stays on.
 */
export const EMBEDDED_POSTGRES_SETTINGS: Record<string, string> = {
  shared_buffers: '16MB',
  max_connections: '40',
  work_mem: '4MB',
  maintenance_work_mem: '16MB',
  wal_buffers: '1MB',
  max_wal_size: '256MB',
  min_wal_size: '32MB',
  max_worker_processes: '2',
  max_parallel_workers: '0',
  max_parallel_workers_per_gather: '0',
  autovacuum_max_workers: '1',
  max_wal_senders: '0',
  wal_level: 'minimal',
  jit: 'off',
};

/** The embedded database names of the services, each its own. */
const DATABASE_NAMES: Record<string, string> = { registry: 'griot_registry', 'content-store': 'griot_content' };

interface Shared {
  server: Promise<PostgresServer>;
  users: number;
}

const servers = new Map<string, Shared>();

/** A service's database on the shared embedded server. */
export interface EmbeddedDatabase {
  /** Its postgres:// URL. */
  url: string;
  /** Gives the server back: the last service to do so stops it. */
  release(): Promise<void>;
}

/**
 * The service `name`'s database on the embedded server of `dataDir`, which
 * is started (and its cluster made) if this process has none running there.
 *
 * @throws Error - naming the folder when another process runs a server on it.
 */
export async function acquireEmbeddedDatabase(dataDir: string, name: string, logger: Logger): Promise<EmbeddedDatabase> {
  const folder = join(resolve(dataDir), 'postgres');
  refuseEarlierPglite(dataDir, folder, name);
  let shared = servers.get(folder);
  if (!shared) {
    const started = Date.now();
    logger.info({ dataDir: folder }, 'starting the embedded database');
    const server = startPostgresServer({ dataDir: folder, settings: EMBEDDED_POSTGRES_SETTINGS, logger: logger.child({ component: 'postgres' }) });
    shared = { server, users: 0 };
    servers.set(folder, shared);
    server.then(
      (s) => logger.info({ address: `${s.host}:${s.port}`, ms: Date.now() - started }, 'embedded database ready'),
      () => servers.delete(folder),
    );
  }
  shared.users++;
  let server: PostgresServer;
  try {
    server = await shared.server;
    const database = DATABASE_NAMES[name] ?? `griot_${name.replace(/\W/g, '_')}`;
    await server.createDatabase(database);
    return { url: server.url(database), release: () => release(folder, shared) };
  } catch (err) {
    await release(folder, shared);
    throw err;
  }
}

async function release(folder: string, shared: Shared): Promise<void> {
  if (--shared.users > 0) return;
  if (servers.get(folder) === shared) servers.delete(folder);
  const server = await shared.server.catch(() => undefined);
  await server?.stop();
}

/**
 * Data an earlier Griot kept in PGlite (`<dataDir>/<service>/pgdata`) would
 * silently look lost on a new embedded server: say so instead.
 */
function refuseEarlierPglite(dataDir: string, folder: string, name: string): void {
  const pglite = join(resolve(dataDir), name, 'pgdata');
  if (existsSync(folder) || !existsSync(pglite) || readdirSync(pglite).length === 0) return;
  throw new Error(
    `${pglite} holds this service's PGlite database from an earlier Griot, and the embedded default is now a PostgreSQL server: ` +
      'set GRIOT_EMBEDDED_DATABASE=pglite to keep using it, or move it away to start afresh',
  );
}
