/**
 * Builds and starts the content store: its database (migrated at start), its
 * storages, its gRPC server with health and reflection, listening on an
 * injectable address, and the sweeper.
 */
import { contentCodecs } from '@griot/transport';
import { contentStoreMigrations } from '@griot/migrations';
import {
  callerAuthenticator,
  defineService,
  GriotServer,
  loadPageTokens,
  openDatabase,
  runMigrations,
  serverCredentialsFromConfig,
  USED_TOKENS_SWEEP_INTERVAL_MS,
  UsedTokens,
  type Logger,
  type PageTokens,
  databaseReadiness,
  ServiceMetrics,
  startAdminServer,
  traceDatabase,
  type AdminServer,
} from '@griot/server-kit';
import { openBlobStores } from './blob-stores';
import type { ContentStoreConfig } from './config';
import { ContentAccess } from './domain/content-access';
import type { ContentDeps } from './domain/content-deps';
import { Manifests } from './domain/manifests';
import { Reads } from './domain/reads';
import { Sweeper, type SweepReport } from './domain/sweeper';
import { Uploads } from './domain/uploads';
import { contentServiceHandlers } from './grpc/content-service';
import { ContentMetrics } from './metrics';
import type { BlobStore } from './storage/blob-store';

/** The ErrorInfo domain of the content store's errors. */
export const CONTENT_DOMAIN = 'content.griot.dev';

/** The knex migrations table of the content store. */
export const CONTENT_MIGRATIONS_TABLE = 'content_store_migrations';

/** Room for a message's framing and other fields above the chunk limit. */
const MESSAGE_OVERHEAD_BYTES = 64 * 1024;

/** A running service. */
export interface RunningService {
  /** The bound port. */
  port: number;
  /** `host:port` to dial. */
  address: string;
  /** `host:port` of the admin HTTP server (/healthz, /readyz, /metrics), when CONTENT_ADMIN_LISTEN set one. */
  adminAddress?: string;
  /** Stops gracefully: refuses new calls, lets in-flight ones finish (bounded), closes the database. */
  stop(graceMs?: number): Promise<void>;
}

/** The running content store, with a handle on its sweeper (tests). */
export interface RunningContentStore extends RunningService {
  /** Runs one sweep now. */
  sweep(): Promise<SweepReport>;
}

/** What tests may replace. */
export interface ContentStoreOverrides {
  /** The clock used for timestamps, expiries and pins (caller tokens are checked against the real time). */
  clock?: () => Date;
  /** More storages (a storage of the same name as a configured one replaces it). */
  stores?: BlobStore[];
  /** Do not start the periodic sweeper (tests call `sweep()`). */
  manualSweep?: boolean;
}

/** Starts the content store. */
export async function startContentStore(config: ContentStoreConfig, logger: Logger, overrides: ContentStoreOverrides = {}): Promise<RunningContentStore> {
  // Built first: a bad certificate path is a configuration error, before anything is opened.
  const credentials = serverCredentialsFromConfig('CONTENT', {
    cert: config.CONTENT_TLS_CERT,
    key: config.CONTENT_TLS_KEY,
    clientCa: config.CONTENT_TLS_CLIENT_CA,
  });
  const db = await openDatabase({ url: config.CONTENT_DATABASE_URL, dataDir: config.GRIOT_DATA_DIR, name: 'content-store', logger, embedded: config.GRIOT_EMBEDDED_DATABASE });
  let stores;
  let pageTokens: PageTokens;
  try {
    logger.info('applying migrations');
    const applied = await runMigrations(db.knex, contentStoreMigrations, CONTENT_MIGRATIONS_TABLE);
    if (applied.length > 0) logger.info({ applied }, 'migrations applied');
    pageTokens = await loadPageTokens(db.knex, config.CONTENT_PAGE_TOKEN_KEY);
    stores = openBlobStores(config, db.knex, overrides.stores);
  } catch (err) {
    await db.close();
    throw err;
  }
  const metrics = new ServiceMetrics();
  metrics.observeDatabasePool(db.knex);
  traceDatabase(db.knex, 'postgresql');
  const deps: ContentDeps = {
    metrics: new ContentMetrics(metrics.registry),
    db: db.knex,
    locks: db.locks,
    stores,
    clock: overrides.clock ?? (() => new Date()),
    logger,
    limits: {
      maxChunkBytes: config.CONTENT_MAX_CHUNK_BYTES,
      inlineValueMaxBytes: config.CONTENT_INLINE_VALUE_MAX_BYTES,
      uploadTtlMs: config.CONTENT_UPLOAD_TTL,
      syncEveryBytes: config.CONTENT_UPLOAD_SYNC_BYTES,
      maxTagsBytes: config.CONTENT_MAX_TAGS_BYTES,
      maxListPageBytes: config.CONTENT_MAX_LIST_PAGE_BYTES,
      maxConcurrentUploads: config.CONTENT_MAX_CONCURRENT_UPLOADS,
      maxUploadsPerConnection: config.CONTENT_MAX_UPLOADS_PER_CONNECTION,
    },
  };
  const uploads = new Uploads(deps);
  const access = new ContentAccess({ writers: config.CONTENT_WRITERS, operators: config.CONTENT_OPERATORS });
  const sweeper = new Sweeper(deps, uploads);
  // Caller tokens are checked against the real time (see ContentStoreOverrides.clock), and swept by it.
  const usedTokens = new UsedTokens(db.knex);
  const server = new GriotServer({
    logger,
    domain: CONTENT_DOMAIN,
    streamIdleMs: config.CONTENT_STREAM_IDLE_TIMEOUT,
    maxConnectionAgeMs: config.CONTENT_MAX_CONNECTION_AGE,
    maxConnectionAgeGraceMs: config.CONTENT_MAX_CONNECTION_AGE_GRACE,
    // Above the chunk limit, so that a chunk a little too large is refused by
    // the service with a message naming the limit rather than by the transport.
    maxReceiveMessageLength: config.CONTENT_MAX_CHUNK_BYTES + MESSAGE_OVERHEAD_BYTES,
    flowControlWindow: config.CONTENT_FLOW_CONTROL_WINDOW,
    // Chunks are large (up to CONTENT_MAX_CHUNK_BYTES): one waits beside the one being handled, each way.
    streamBuffering: { readAhead: 1, writeBehind: 2 },
    credentials,
    metrics,
    // Ready while the database and the default storage answer.
    readiness: [
      databaseReadiness(db.knex),
      { name: `storage ${stores.default.name}`, check: async () => void (await stores.default.probe?.()) },
    ],
    services: [
      defineService(
        'griot.content.v1.ContentService',
        contentCodecs.contentServiceServerDefinition,
        contentServiceHandlers(
          { uploads, manifests: new Manifests(deps, access, pageTokens), reads: new Reads(deps), access },
          {
            authenticate: callerAuthenticator({
              audience: config.CONTENT_TOKEN_AUDIENCE,
              maxSkewSeconds: Math.floor(config.CONTENT_MAX_TOKEN_SKEW / 1000),
              now: () => new Date(),
              usedTokens,
            }),
            requireReadAuth: config.CONTENT_REQUIRE_READ_AUTH,
          },
        ),
      ),
    ],
  });
  const port = await server.listen(config.CONTENT_LISTEN);
  const host = config.CONTENT_LISTEN.slice(0, config.CONTENT_LISTEN.lastIndexOf(':'));
  let admin: AdminServer | undefined;
  if (config.CONTENT_ADMIN_LISTEN) {
    try {
      admin = await startAdminServer(config.CONTENT_ADMIN_LISTEN, server, logger.child({ component: 'admin' }));
    } catch (err) {
      await server.shutdown(0);
      await stores.close();
      await db.close();
      throw new Error(`CONTENT_ADMIN_LISTEN ${config.CONTENT_ADMIN_LISTEN}: ${(err as Error).message}`, { cause: err });
    }
  }
  if (!overrides.manualSweep) sweeper.start(config.CONTENT_SWEEP_INTERVAL);
  usedTokens.startSweeping(USED_TOKENS_SWEEP_INTERVAL_MS, logger.child({ component: 'used-tokens' }));
  logger.info({ address: `${host}:${port}`, tls: config.CONTENT_TLS_CERT ? (config.CONTENT_TLS_CLIENT_CA ? 'mutual' : 'server') : 'off', database: db.kind, storages: stores.all().map((s) => s.name), defaultStorage: stores.default.name }, 'content store listening');
  if (admin) logger.info({ address: admin.address, paths: ['/healthz', '/readyz', '/metrics'] }, 'content store admin listening');
  return {
    port,
    address: `${host}:${port}`,
    adminAddress: admin?.address,
    sweep: () => sweeper.sweep(),
    async stop(graceMs = 10_000) {
      await server.shutdown(graceMs);
      await sweeper.stop();
      await usedTokens.stopSweeping();
      await stores.close();
      await db.close();
      await admin?.close();
    },
  };
}
