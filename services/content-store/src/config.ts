/**
 * The content store's configuration, read from environment variables.
 */
import { join } from 'node:path';
import { didListVar, embeddedDatabaseVar, pageTokenKeyVar, readConfig, vars, type ConfigOf } from '@griot/server-kit';

const MiB = 1024 * 1024;

/** Every variable the content store reads, with its parser and default. */
export const contentStoreConfigSpec = {
  CONTENT_LISTEN: vars.address('127.0.0.1:50052'),
  /**
   * The admin HTTP address (plaintext): /healthz, /readyz, /metrics. Empty:
   * none (the default of the service alone; `pnpm start` defaults it to
   * 127.0.0.1:9052).
   */
  CONTENT_ADMIN_LISTEN: vars.optionalAddress(),
  CONTENT_DATABASE_URL: vars.postgresUrl(),
  GRIOT_DATA_DIR: vars.path('./.griot'),
  /** The database of a service whose *_DATABASE_URL is empty: `postgres` (an embedded PostgreSQL server under GRIOT_DATA_DIR) or `pglite`. */
  GRIOT_EMBEDDED_DATABASE: embeddedDatabaseVar(),
  LOG_LEVEL: vars.logLevel('info'),
  /** PEM certificate chain: set with CONTENT_TLS_KEY to serve TLS instead of plaintext. */
  CONTENT_TLS_CERT: vars.file(),
  /** PEM private key of CONTENT_TLS_CERT. */
  CONTENT_TLS_KEY: vars.file(),
  /** PEM CA bundle: when set, clients must present a certificate it signed (mutual TLS). */
  CONTENT_TLS_CLIENT_CA: vars.file(),
  /** The `aud` caller tokens must carry (UploadBlob, CreateManifest, DeleteManifest; every read too with CONTENT_REQUIRE_READ_AUTH). */
  CONTENT_TOKEN_AUDIENCE: vars.string('griot-content'),
  /** Tolerated clock difference between a caller and the content store when checking tokens. */
  CONTENT_MAX_TOKEN_SKEW: vars.duration('30s', { min: 0, max: 600_000 }),
  /**
   * HMAC key of page tokens (at least 32 bytes), the same on every replica;
   * unset: a random key the first replica stores in the content store's database.
   */
  CONTENT_PAGE_TOKEN_KEY: pageTokenKeyVar(),
  /** Comma-separated did:keys allowed to upload and create manifests; empty: any caller with a valid token. */
  CONTENT_WRITERS: didListVar(),
  /** Comma-separated did:keys that may delete any manifest (the creator may always delete its own). */
  CONTENT_OPERATORS: didListVar(),
  /** `true`: every read RPC needs a valid caller token too (of any DID). */
  CONTENT_REQUIRE_READ_AUTH: vars.boolean(false),
  /** The storage used when a request names none. */
  CONTENT_DEFAULT_STORAGE: vars.oneOf(['griot.file@v1', 'griot.gcs@v1', 'griot.database@v1'] as const, 'griot.file@v1'),
  /**
   * `auto`: the file storage writes uploads with direct I/O (O_DIRECT), past
   * the page cache, where the file system supports it; `off`: through the
   * page cache.
   */
  CONTENT_FILE_DIRECT_IO: vars.oneOf(['auto', 'off'] as const, 'auto'),
  /** The GCS bucket; the GCS storage is enabled when it is set. */
  CONTENT_GCS_BUCKET: vars.string(undefined),
  /** The prefix of every object the GCS storage writes. */
  CONTENT_GCS_PREFIX: vars.string('griot'),
  /** A GCS JSON-API endpoint other than Google's (an emulator or a test server). */
  CONTENT_GCS_ENDPOINT: vars.string(undefined),
  /** The Google Cloud project of the bucket. */
  CONTENT_GCS_PROJECT: vars.string(undefined),
  /** The largest blob the database storage holds. */
  CONTENT_DATABASE_STORAGE_MAX_BYTES: vars.bytes('16MiB', { min: 1 }),
  /** The largest data chunk of one UploadBlob message. */
  CONTENT_MAX_CHUNK_BYTES: vars.bytes('4MiB', { min: 1024, max: 64 * MiB }),
  /** Largest `tags` of a manifest (CreateManifest), as JSON bytes; larger is RESOURCE_EXHAUSTED TAGS_TOO_LARGE. */
  CONTENT_MAX_TAGS_BYTES: vars.bytes('64KiB', { min: 256, max: 16 * MiB }),
  /** Most bytes of manifests one ListManifests page carries: a page ends early (with a next page token) rather than pass it. */
  CONTENT_MAX_LIST_PAGE_BYTES: vars.bytes('2MiB', { min: 1024, max: 64 * MiB }),
  /** Most UploadBlob streams this process runs at once; one more is RESOURCE_EXHAUSTED TOO_MANY_UPLOADS (each holds file descriptors). */
  CONTENT_MAX_CONCURRENT_UPLOADS: vars.integer(1000, { min: 1, max: 1_000_000 }),
  /** Most UploadBlob streams one connection runs at once; one more is RESOURCE_EXHAUSTED TOO_MANY_UPLOADS naming this limit. */
  CONTENT_MAX_UPLOADS_PER_CONNECTION: vars.integer(100, { min: 1, max: 1_000_000 }),
  /** The largest inline_value of a CreateManifest content. */
  CONTENT_INLINE_VALUE_MAX_BYTES: vars.bytes('1MiB', { min: 0, max: 16 * MiB }),
  /** How long an unfinished upload, or an uploaded blob no manifest references yet, is kept. */
  CONTENT_UPLOAD_TTL: vars.duration('24h', { min: 1000 }),
  /** How often the sweeper expires uploads and deletes unreferenced blobs. */
  CONTENT_SWEEP_INTERVAL: vars.duration('5m', { min: 100 }),
  /** An upload makes its bytes durable and records its committed size each time this many more bytes arrived. */
  CONTENT_UPLOAD_SYNC_BYTES: vars.bytes('16MiB', { min: 1024 }),
  /** A client stream (UploadBlob) that sends nothing for this long is ended with DEADLINE_EXCEEDED STREAM_IDLE. */
  CONTENT_STREAM_IDLE_TIMEOUT: vars.duration('120s', { min: 10, max: 3_600_000 }),
  /**
   * The HTTP/2 receive window of each stream and connection: how many bytes a
   * client may send before the server acknowledges them. It bounds what one
   * connection can make the server buffer; HTTP/2's 64 KiB halves upload speed.
   */
  CONTENT_FLOW_CONTROL_WINDOW: vars.bytes('4MiB', { min: 65_535, max: 2 ** 31 - 1 }),
  /**
   * Age after which a client connection is closed gracefully (GOAWAY), so that clients reconnect and
   * replicas behind a load balancer share long-lived HTTP/2 connections; 0s: never.
   */
  CONTENT_MAX_CONNECTION_AGE: vars.duration('5m', { min: 0, max: 7 * 86_400_000 }),
  /** How long calls in flight on a connection past its age may go on before it is closed: at most the 10 s shutdown drain. */
  CONTENT_MAX_CONNECTION_AGE_GRACE: vars.duration('10s', { min: 0, max: 10_000 }),
};

/** The content store's parsed configuration. */
export type ContentStoreConfig = ConfigOf<typeof contentStoreConfigSpec>;

/** Reads and validates the content store's configuration. */
export function readContentStoreConfig(env: NodeJS.ProcessEnv = process.env): ContentStoreConfig {
  return readConfig(contentStoreConfigSpec, env);
}

/** The folder of the content store's local blobs. */
export function fileStoreRoot(config: ContentStoreConfig): string {
  return join(config.GRIOT_DATA_DIR, 'content-store', 'blobs');
}
