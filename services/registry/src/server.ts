/**
 * Builds and starts the registry on server-kit's {@link startService}: its
 * notifications, its lease sweeper and its RegistryService handlers over the
 * migrated database.
 */
import { REGISTRY_MIGRATIONS_TABLE, registryMigrations } from '@griot/migrations';
import { clientCredentialsFromConfig, defineService, startService, type Logger, type RunningService } from '@griot/server-kit';
import { loadRegistryKey } from './auth/registry-key';
import { contentStoreChecker, type ArtifactChecker } from './clients/content-store-client';
import type { RegistryConfig } from './config';
import { Installations } from './domain/installations';
import { JobAccess } from './domain/job-access';
import { LeaseSweeper } from './domain/lease-sweeper';
import { logMigrationYanks, PackageOwners } from './domain/owners';
import { Packages } from './domain/packages';
import { InstallationEvents } from './events/installation-events';
import { JobFeeds } from './events/job-feeds';
import { installationHandlers, registryDefinition } from './grpc/installations';
import { ownerHandlers } from './grpc/owners';
import { packageHandlers } from './grpc/packages';
import { RegistryMetrics } from './metrics';
import { InstallationsRepository } from './repository/installations-repository';
import { PackagesRepository } from './repository/packages-repository';

/** The ErrorInfo domain of the registry's errors. */
export const REGISTRY_DOMAIN = 'registry.griot.dev';

/** Longest log line accepted, in characters. */
export const MAX_LOG_LINE_LENGTH = 16 * 1024;

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
  const now = overrides.now ?? (() => new Date());
  let sweeper: LeaseSweeper | undefined;
  const running = await startService({
    name: 'registry',
    title: 'registry',
    prefix: 'REGISTRY',
    config,
    domain: REGISTRY_DOMAIN,
    logger,
    migrations: registryMigrations,
    migrationsTable: REGISTRY_MIGRATIONS_TABLE,
    poolMax: overrides.poolMax,
    tokenClock: now,
    async build({ db, appliedMigrations, pageTokens, metrics, authenticate, onClose }) {
      if (appliedMigrations.includes('005_package_owners')) await logMigrationYanks(db.knex, logger);
      const registryKey = await loadRegistryKey(config.REGISTRY_KEY_FILE, config.GRIOT_DATA_DIR);
      logger.info({ did: registryKey.keyPair.did, keyFile: registryKey.path, source: registryKey.source }, 'registry identity');
      const registryMetrics = new RegistryMetrics(metrics.registry, db.knex);
      const packages = new PackagesRepository(db.knex);
      const installations = new InstallationsRepository(db.knex);
      const events = new InstallationEvents(db, logger.child({ component: 'installation-events' }), (lag) => registryMetrics.notificationLag.observe(lag));
      await events.start();
      onClose(() => events.stop());
      const feeds = new JobFeeds(events, installations, logger.child({ component: 'job-feeds' }));
      const artifacts =
        overrides.artifactChecker ??
        contentStoreChecker(
          config.CONTENT_STORE_ADDR,
          config.REGISTRY_CONTENT_DEADLINE,
          { keyPair: registryKey.keyPair, audience: config.CONTENT_STORE_TOKEN_AUDIENCE },
          clientCredentialsFromConfig('CONTENT_STORE', { ca: config.CONTENT_STORE_TLS_CA, cert: config.CONTENT_STORE_TLS_CERT, key: config.CONTENT_STORE_TLS_KEY }),
        );
      onClose(() => artifacts.close());
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
      const leaseSweeper = new LeaseSweeper(installations, {
        maxAttempts: config.REGISTRY_MAX_ATTEMPTS,
        logger: logger.child({ component: 'lease-sweeper' }),
        onExpired: (count) => registryMetrics.leaseExpiries.inc(count),
      });
      sweeper = leaseSweeper;
      onClose(() => leaseSweeper.stop());
      return {
        services: [service],
        start: () => leaseSweeper.start(config.REGISTRY_LEASE_SWEEP_INTERVAL),
        describe: { contentStore: config.CONTENT_STORE_ADDR },
      };
    },
  });
  return { ...running, sweepLeases: () => sweeper!.sweep() };
}
