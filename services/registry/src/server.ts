/**
 * Builds and starts the registry: its database (migrated at start), its
 * notifications, its lease sweeper and its gRPC server with health and
 * reflection, listening on an injectable address.
 */
import { registryMigrations } from '@griot/migrations';
import {
  clientCredentialsFromConfig,
  defineService,
  GriotServer,
  loadPageTokens,
  openDatabase,
  runMigrations,
  serverCredentialsFromConfig,
  USED_TOKENS_SWEEP_INTERVAL_MS,
  UsedTokens,
  type Logger,
  databaseReadiness,
  ServiceMetrics,
  startAdminServer,
  traceDatabase,
  type AdminServer,
} from '@griot/server-kit';
import { callerAuthenticator } from './auth/caller-auth';
import { JobAccess } from './auth/job-access';
import { loadRegistryKey } from './auth/registry-key';
import { contentStoreChecker, type ArtifactChecker } from './clients/content-store-client';
import type { RegistryConfig } from './config';
import { Installations } from './domain/installations';
import { logMigrationYanks, PackageOwners } from './domain/owners';
import { Packages } from './domain/packages';
import { InstallationEvents } from './events/installation-events';
import { JobFeeds } from './events/job-feeds';
import { installationHandlers, registryDefinition } from './grpc/installations';
import { ownerHandlers } from './grpc/owners';
import { packageHandlers } from './grpc/packages';
import { startLeaseSweeper } from './jobs/lease-sweeper';
import { RegistryMetrics } from './metrics';
import { InstallationsRepository } from './repository/installations-repository';
import { PackagesRepository } from './repository/packages-repository';

/** The ErrorInfo domain of the registry's errors. */
export const REGISTRY_DOMAIN = 'registry.griot.dev';

/** The knex migrations table of the registry. */
export const REGISTRY_MIGRATIONS_TABLE = 'registry_migrations';

/** Longest log line accepted, in characters. */
export const MAX_LOG_LINE_LENGTH = 16 * 1024;

/** A running service. */
export interface RunningService {
  /** The bound port. */
  port: number;
  /** `host:port` to dial. */
  address: string;
  /** `host:port` of the admin HTTP server (/healthz, /readyz, /metrics), when REGISTRY_ADMIN_LISTEN set one. */
  adminAddress?: string;
  /** Stops gracefully: refuses new calls, lets in-flight ones finish (bounded), closes the database. */
  stop(graceMs?: number): Promise<void>;
}

/** What tests may replace. */
export interface RegistryOverrides {
  /** The clock node tokens are checked against. */
  now?: () => Date;
  /** The content store check (default: gRPC to CONTENT_STORE_ADDR, with the registry's token). */
  artifactChecker?: ArtifactChecker;
  /** Largest database pool (PostgreSQL). */
  poolMax?: number;
}

/** A running registry, with what tests look into. */
export interface RunningRegistry extends RunningService {
  /** Runs one lease sweep now; resolves with the number of jobs changed. */
  sweepLeases(): Promise<number>;
}

/** Starts the registry. */
export async function startRegistry(config: RegistryConfig, logger: Logger, overrides: RegistryOverrides = {}): Promise<RunningRegistry> {
  // Built first: a bad certificate path is a configuration error, before anything is opened.
  const serverCredentials = serverCredentialsFromConfig('REGISTRY', {
    cert: config.REGISTRY_TLS_CERT,
    key: config.REGISTRY_TLS_KEY,
    clientCa: config.REGISTRY_TLS_CLIENT_CA,
  });
  const registryKey = await loadRegistryKey(config.REGISTRY_KEY_FILE, config.GRIOT_DATA_DIR);
  logger.info({ did: registryKey.keyPair.did, keyFile: registryKey.path, source: registryKey.source }, 'registry identity');
  const db = await openDatabase({
    url: config.REGISTRY_DATABASE_URL,
    dataDir: config.GRIOT_DATA_DIR,
    name: 'registry',
    embedded: config.GRIOT_EMBEDDED_DATABASE,
    logger,
    poolMax: overrides.poolMax,
  });
  logger.info('applying migrations');
  const applied = await runMigrations(db.knex, registryMigrations, REGISTRY_MIGRATIONS_TABLE);
  if (applied.length > 0) logger.info({ applied }, 'migrations applied');
  if (applied.includes('005_package_owners')) await logMigrationYanks(db.knex, logger);
  const pageTokens = await loadPageTokens(db.knex, config.REGISTRY_PAGE_TOKEN_KEY);
  const metrics = new ServiceMetrics();
  metrics.observeDatabasePool(db.knex);
  traceDatabase(db.knex, 'postgresql');
  const registryMetrics = new RegistryMetrics(metrics.registry, db.knex);
  const now = overrides.now ?? (() => new Date());
  const usedTokens = new UsedTokens(db.knex, now);

  const packages = new PackagesRepository(db.knex);
  const installations = new InstallationsRepository(db.knex);
  const events = new InstallationEvents(db, logger.child({ component: 'installation-events' }), (lag) => registryMetrics.notificationLag.observe(lag));
  await events.start();
  const feeds = new JobFeeds(events, installations, logger.child({ component: 'job-feeds' }));
  const artifacts =
    overrides.artifactChecker ??
    contentStoreChecker(
      config.CONTENT_STORE_ADDR,
      config.REGISTRY_CONTENT_DEADLINE,
      { keyPair: registryKey.keyPair, audience: config.CONTENT_STORE_TOKEN_AUDIENCE },
      clientCredentialsFromConfig('CONTENT_STORE', { ca: config.CONTENT_STORE_TLS_CA, cert: config.CONTENT_STORE_TLS_CERT, key: config.CONTENT_STORE_TLS_KEY }),
    );
  const authenticate = callerAuthenticator({
    audience: config.REGISTRY_TOKEN_AUDIENCE,
    maxSkewSeconds: Math.floor(config.REGISTRY_MAX_TOKEN_SKEW / 1000),
    now,
    usedTokens,
  });

  const service = defineService('griot.registry.v1.RegistryService', registryDefinition(), registryMetrics.count({
      ...packageHandlers({
        packages: new Packages({ db: db.knex, artifacts, maxManifestBytes: config.REGISTRY_MAX_MANIFEST_BYTES, cacheSize: config.REGISTRY_PACKAGE_CACHE_SIZE, cacheBytes: config.REGISTRY_PACKAGE_CACHE_BYTES, maxListPageBytes: config.REGISTRY_MAX_LIST_PAGE_BYTES, pageTokens }),
        authenticate,
      }),
      ...ownerHandlers({ owners: new PackageOwners(db.knex, pageTokens), authenticate }),
      ...installationHandlers({
        installations: new Installations({
          installations,
          packages,
          access: new JobAccess(config.REGISTRY_OPERATORS),
          events,
          maxClaimWaitMs: config.REGISTRY_MAX_CLAIM_WAIT,
          report: {
            leaseMs: config.REGISTRY_LEASE_DURATION,
            flushIntervalMs: config.REGISTRY_LOG_FLUSH_INTERVAL,
            flushLines: config.REGISTRY_LOG_FLUSH_LINES,
            checkpointIntervalMs: config.REGISTRY_LOG_CHECKPOINT_INTERVAL,
            maxLineLength: MAX_LOG_LINE_LENGTH,
            maxLogLines: config.REGISTRY_MAX_LOG_LINES_PER_JOB,
            maxLogBytes: config.REGISTRY_MAX_LOG_BYTES_PER_JOB,
          },
          maxLogLinesPerGet: config.REGISTRY_MAX_LOG_LINES_PER_GET,
          maxClaimPackageBytes: config.REGISTRY_MAX_CLAIM_PACKAGE_BYTES,
          pageTokens,
        }),
        authenticate,
        feeds,
      }),
  }));
  const server = new GriotServer({
    logger,
    domain: REGISTRY_DOMAIN,
    streamIdleMs: config.REGISTRY_STREAM_IDLE_TIMEOUT,
    maxConnectionAgeMs: config.REGISTRY_MAX_CONNECTION_AGE,
    maxConnectionAgeGraceMs: config.REGISTRY_MAX_CONNECTION_AGE_GRACE,
    services: [service],
    credentials: serverCredentials,
    metrics,
    // Ready while the database answers.
    readiness: [databaseReadiness(db.knex)],
  });
  const sweeper = startLeaseSweeper(installations, {
    intervalMs: config.REGISTRY_LEASE_SWEEP_INTERVAL,
    maxAttempts: config.REGISTRY_MAX_ATTEMPTS,
    logger: logger.child({ component: 'lease-sweeper' }),
    onExpired: (count) => registryMetrics.leaseExpiries.inc(count),
  });
  usedTokens.startSweeping(USED_TOKENS_SWEEP_INTERVAL_MS, logger.child({ component: 'used-tokens' }));
  const port = await server.listen(config.REGISTRY_LISTEN);
  const host = config.REGISTRY_LISTEN.slice(0, config.REGISTRY_LISTEN.lastIndexOf(':'));
  logger.info({ address: `${host}:${port}`, database: db.kind, contentStore: config.CONTENT_STORE_ADDR }, 'registry listening');
  let admin: AdminServer | undefined;
  if (config.REGISTRY_ADMIN_LISTEN) {
    try {
      admin = await startAdminServer(config.REGISTRY_ADMIN_LISTEN, server, logger.child({ component: 'admin' }));
    } catch (err) {
      await sweeper.stop();
      await server.shutdown(0);
      await events.stop();
      artifacts.close();
      await usedTokens.stopSweeping();
      await db.close();
      throw new Error(`REGISTRY_ADMIN_LISTEN ${config.REGISTRY_ADMIN_LISTEN}: ${(err as Error).message}`, { cause: err });
    }
    logger.info({ address: admin.address, paths: ['/healthz', '/readyz', '/metrics'] }, 'registry admin listening');
  }
  return {
    port,
    address: `${host}:${port}`,
    adminAddress: admin?.address,
    sweepLeases: () => sweeper.sweep(),
    async stop(graceMs = 10_000) {
      await sweeper.stop();
      await server.shutdown(graceMs);
      await events.stop();
      artifacts.close();
      await usedTokens.stopSweeping();
      await db.close();
      await admin?.close();
    },
  };
}
