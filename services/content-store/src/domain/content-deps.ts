/**
 * What the domain layer works with: the database, the storages, a clock and
 * the limits from configuration.
 */
import type { Knex } from 'knex';
import type { Logger, SessionLocks } from '@griot/server-kit';
import type { BlobStores } from '../blob-stores';
import type { ContentMetrics } from '../metrics';

/** The limits the domain enforces. */
export interface ContentLimits {
  /** Largest data chunk of one upload message. */
  maxChunkBytes: number;
  /** Largest inline value. */
  inlineValueMaxBytes: number;
  /** How long an unfinished upload or an unreferenced new blob is kept, in ms. */
  uploadTtlMs: number;
  /** Bytes between two syncs of an upload. */
  syncEveryBytes: number;
  /** Largest `tags` of a manifest, as JSON bytes (CONTENT_MAX_TAGS_BYTES); default no limit. */
  maxTagsBytes?: number;
  /** Most bytes of manifests one ListManifests page carries (CONTENT_MAX_LIST_PAGE_BYTES); default no limit. */
  maxListPageBytes?: number;
  /** Most upload streams this process runs at once (CONTENT_MAX_CONCURRENT_UPLOADS); default no limit. */
  maxConcurrentUploads?: number;
  /** Most upload streams one connection runs at once (CONTENT_MAX_UPLOADS_PER_CONNECTION); default no limit. */
  maxUploadsPerConnection?: number;
}

/** The domain's dependencies. */
export interface ContentDeps {
  /** The database. */
  db: Knex;
  /** Locks against the other replicas on the database (one stream per upload). */
  locks: SessionLocks;
  /** The configured storages. */
  stores: BlobStores;
  /** The current time (injectable in tests). */
  clock: () => Date;
  /** Limits from configuration. */
  limits: ContentLimits;
  /** For background work (deletions, sweeps). */
  logger: Logger;
  /** Where uploads, reads and sweeps are counted (none in some unit tests). */
  metrics?: ContentMetrics;
}

/** `now` plus the upload TTL. */
export function pinDeadline(deps: ContentDeps, now = deps.clock()): Date {
  return new Date(now.getTime() + deps.limits.uploadTtlMs);
}
