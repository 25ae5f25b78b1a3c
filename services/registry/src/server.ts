/**
 * Builds and starts the registry: its database (migrated at start), its gRPC
 * server with health and reflection, listening on an injectable address.
 */
import { registry } from '@griot/proto';
import { registryMigrations } from '@griot/migrations';
import { GriotServer, openDatabase, runMigrations, type Logger } from '@griot/server-kit';
import type { RegistryConfig } from './config';

/** The ErrorInfo domain of the registry's errors. */
export const REGISTRY_DOMAIN = 'registry.griot.dev';

/** The knex migrations table of the registry. */
export const REGISTRY_MIGRATIONS_TABLE = 'registry_migrations';

/** A running service. */
export interface RunningService {
  /** The bound port. */
  port: number;
  /** `host:port` to dial. */
  address: string;
  /** Stops gracefully: refuses new calls, lets in-flight ones finish (bounded), closes the database. */
  stop(graceMs?: number): Promise<void>;
}

/** Starts the registry. */
export async function startRegistry(config: RegistryConfig, logger: Logger): Promise<RunningService> {
  const db = await openDatabase({ url: config.REGISTRY_DATABASE_URL, dataDir: config.GRIOT_DATA_DIR, name: 'registry', logger });
  const applied = await runMigrations(db.knex, registryMigrations, REGISTRY_MIGRATIONS_TABLE);
  if (applied.length > 0) logger.info({ applied }, 'migrations applied');
  const server = new GriotServer({
    logger,
    domain: REGISTRY_DOMAIN,
    services: [{ name: 'griot.registry.v1.RegistryService', definition: registry.RegistryServiceService, handlers: {} }],
  });
  const port = await server.listen(config.REGISTRY_LISTEN);
  const host = config.REGISTRY_LISTEN.slice(0, config.REGISTRY_LISTEN.lastIndexOf(':'));
  logger.info({ address: `${host}:${port}`, database: db.kind, contentStore: config.CONTENT_STORE_ADDR }, 'registry listening');
  return {
    port,
    address: `${host}:${port}`,
    async stop(graceMs = 10_000) {
      await server.shutdown(graceMs);
      await db.close();
    },
  };
}
