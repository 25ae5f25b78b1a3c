/**
 * Builds and starts the content store on server-kit's {@link startService}:
 * its storages, its ContentService handlers over the migrated database, and
 * the sweeper.
 */
import { contentCodecs } from '@griot/transport';
import { CONTENT_STORE_MIGRATIONS_TABLE, contentStoreMigrations } from '@griot/migrations';
import { defineService, startService, type Logger, type RunningService } from '@griot/server-kit';
import { openBlobStores } from './blob-stores';
import { fileStoreRoot, type ContentStoreConfig } from './config';
import { ContentAccess } from './domain/content-access';
import type { ContentDeps } from './domain/content-deps';
import { Manifests } from './domain/manifests';
import { Reads } from './domain/reads';
import { BlobSweeper, type SweepReport } from './domain/blob-sweeper';
import { Uploads } from './domain/uploads';
import { contentServiceHandlers, uploadRequestDeframer } from './grpc/content-service';
import { raiseMallocThresholds } from './malloc-thresholds';
import { ContentMetrics } from './metrics';
import type { BlobStore } from './storage/blob-store';

/** The ErrorInfo domain of the content store's errors. */
export const CONTENT_DOMAIN = 'content.griot.dev';

/** Room for a message's framing and other fields above the chunk limit. */
const MESSAGE_OVERHEAD_BYTES = 64 * 1024;

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
  // Received upload bytes reuse the memory they were read into, not fresh pages.
  raiseMallocThresholds();
  let sweeper: BlobSweeper | undefined;
  const running = await startService({
    name: 'content-store',
    title: 'content store',
    prefix: 'CONTENT',
    config,
    domain: CONTENT_DOMAIN,
    logger,
    migrations: contentStoreMigrations,
    migrationsTable: CONTENT_STORE_MIGRATIONS_TABLE,
    build({ db, pageTokens, metrics, authenticate, onClose }) {
      const stores = openBlobStores(config, db.knex, overrides.stores);
      onClose(() => stores.close());
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
      const blobSweeper = new BlobSweeper(deps, uploads);
      sweeper = blobSweeper;
      onClose(() => blobSweeper.stop());
      return {
        services: [
          defineService(
            'griot.content.v1.ContentService',
            contentCodecs.contentServiceServerDefinition,
            contentServiceHandlers(
              { uploads, manifests: new Manifests(deps, access, pageTokens), reads: new Reads(deps), access },
              { authenticate, requireReadAuth: config.CONTENT_REQUIRE_READ_AUTH },
            ),
          ),
        ],
        transport: {
          // Above the chunk limit, so that a chunk a little too large is refused by
          // the service with a message naming the limit rather than by the transport.
          maxReceiveMessageLength: config.CONTENT_MAX_CHUNK_BYTES + MESSAGE_OVERHEAD_BYTES,
          flowControlWindow: config.CONTENT_FLOW_CONTROL_WINDOW,
          // Chunks are large (up to CONTENT_MAX_CHUNK_BYTES): one waits beside the one being handled, each way.
          streamBuffering: { readAhead: 1, writeBehind: 2 },
          // Upload chunks are assembled where the file storage writes them from.
          interceptors: [uploadRequestDeframer],
        },
        // Ready while the default storage answers (and the database, which every service checks).
        readiness: [{ name: `storage ${stores.default.name}`, check: async () => void (await stores.default.probe?.()) }],
        writeFolders: [fileStoreRoot(config)],
        start() {
          if (!overrides.manualSweep) blobSweeper.start(config.CONTENT_SWEEP_INTERVAL);
        },
        describe: { storages: stores.all().map((s) => s.name), defaultStorage: stores.default.name },
      };
    },
  });
  return { ...running, sweep: () => sweeper!.sweep() };
}
