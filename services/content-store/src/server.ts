/**
 * Builds and starts the content store: its database (migrated at start), its
 * gRPC server with health and reflection, listening on an injectable address.
 */
import { content } from '@griot/proto';
import { contentStoreMigrations } from '@griot/migrations';
import { GriotServer, openDatabase, runMigrations, type Logger } from '@griot/server-kit';
import type { ContentStoreConfig } from './config';

/** The ErrorInfo domain of the content store's errors. */
export const CONTENT_DOMAIN = 'content.griot.dev';

/** The knex migrations table of the content store. */
export const CONTENT_MIGRATIONS_TABLE = 'content_store_migrations';

/** A running service. */
export interface RunningService {
  /** The bound port. */
  port: number;
  /** `host:port` to dial. */
  address: string;
  /** Stops gracefully: refuses new calls, lets in-flight ones finish (bounded), closes the database. */
  stop(graceMs?: number): Promise<void>;
}

/** Starts the content store. */
export async function startContentStore(config: ContentStoreConfig, logger: Logger): Promise<RunningService> {
  const db = await openDatabase({ url: config.CONTENT_DATABASE_URL, dataDir: config.GRIOT_DATA_DIR, name: 'content-store', logger });
  const applied = await runMigrations(db.knex, contentStoreMigrations, CONTENT_MIGRATIONS_TABLE);
  if (applied.length > 0) logger.info({ applied }, 'migrations applied');
  const server = new GriotServer({
    logger,
    domain: CONTENT_DOMAIN,
    services: [{ name: 'griot.content.v1.ContentService', definition: content.ContentServiceService, handlers: {} }],
  });
  const port = await server.listen(config.CONTENT_LISTEN);
  const host = config.CONTENT_LISTEN.slice(0, config.CONTENT_LISTEN.lastIndexOf(':'));
  logger.info({ address: `${host}:${port}`, database: db.kind }, 'content store listening');
  return {
    port,
    address: `${host}:${port}`,
    async stop(graceMs = 10_000) {
      await server.shutdown(graceMs);
      await db.close();
    },
  };
}
