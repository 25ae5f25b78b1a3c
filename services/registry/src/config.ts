/**
 * The registry's configuration, read from environment variables.
 */
import { didListVar, embeddedDatabaseVar, pageTokenKeyVar, readConfig, vars, type ConfigOf } from '@griot/server-kit';

/** Every variable the registry reads, with its parser and default. */
export const registryConfigSpec = {
  REGISTRY_LISTEN: vars.address('127.0.0.1:50051'),
  /**
   * The admin HTTP address (plaintext): /healthz, /readyz, /metrics. Empty:
   * none (the default of the service alone; `pnpm start` defaults it to
   * 127.0.0.1:9051).
   */
  REGISTRY_ADMIN_LISTEN: vars.optionalAddress(),
  REGISTRY_DATABASE_URL: vars.postgresUrl(),
  GRIOT_DATA_DIR: vars.path('./.griot'),
  /** The database of a service whose *_DATABASE_URL is empty: `postgres` (an embedded PostgreSQL server under GRIOT_DATA_DIR) or `pglite`. */
  GRIOT_EMBEDDED_DATABASE: embeddedDatabaseVar(),
  LOG_LEVEL: vars.logLevel('info'),
  CONTENT_STORE_ADDR: vars.address('127.0.0.1:50052'),
  /** PEM certificate chain: set with REGISTRY_TLS_KEY to serve TLS instead of plaintext. */
  REGISTRY_TLS_CERT: vars.file(),
  /** PEM private key of REGISTRY_TLS_CERT. */
  REGISTRY_TLS_KEY: vars.file(),
  /** PEM CA bundle: when set, clients must present a certificate it signed (mutual TLS). */
  REGISTRY_TLS_CLIENT_CA: vars.file(),
  /** PEM CA bundle the content store's certificate must chain to: set = TLS to the content store. */
  CONTENT_STORE_TLS_CA: vars.file(),
  /** PEM client certificate the registry presents to the content store (mutual TLS). */
  CONTENT_STORE_TLS_CERT: vars.file(),
  /** PEM private key of CONTENT_STORE_TLS_CERT. */
  CONTENT_STORE_TLS_KEY: vars.file(),
  /** The `aud` caller tokens must carry. */
  REGISTRY_TOKEN_AUDIENCE: vars.string('griot-registry'),
  /** Tolerated clock difference between a caller and the registry when checking tokens. */
  REGISTRY_MAX_TOKEN_SKEW: vars.duration('30s', { min: 0, max: 600_000 }),
  /**
   * HMAC key of page tokens (at least 32 bytes), the same on every replica;
   * unset: a random key the first replica stores in the registry's database.
   */
  REGISTRY_PAGE_TOKEN_KEY: pageTokenKeyVar(),
  /** Comma-separated did:keys of operators: they create and cancel installation jobs for any node and read every job. */
  REGISTRY_OPERATORS: didListVar(),
  /**
   * The registry's own key file (`griot keygen`): its did:key signs the tokens
   * of its calls to the content store, where it keeps a manifest for each
   * artifact it registers. Unset: `registry-key.json` under GRIOT_DATA_DIR,
   * made on first start.
   */
  REGISTRY_KEY_FILE: vars.file(),
  /** The `aud` of the registry's tokens to the content store (its CONTENT_TOKEN_AUDIENCE). */
  CONTENT_STORE_TOKEN_AUDIENCE: vars.string('griot-content'),
  /** Largest signed manifest accepted, as JSON bytes. */
  REGISTRY_MAX_MANIFEST_BYTES: vars.bytes('64KiB', { min: 256, max: 4 * 1024 * 1024 }),
  /** How long a claimed job stays running without its agent renewing the lease. */
  REGISTRY_LEASE_DURATION: vars.duration('30s', { min: 100, max: 3_600_000 }),
  /** How often expired leases are looked for. */
  REGISTRY_LEASE_SWEEP_INTERVAL: vars.duration('5s', { min: 20, max: 600_000 }),
  /** How many claims a job gets before an expired lease fails it. */
  REGISTRY_MAX_ATTEMPTS: vars.integer(3, { min: 1, max: 100 }),
  /** Deadline of each call to the content store. */
  REGISTRY_CONTENT_DEADLINE: vars.duration('5s', { min: 10, max: 120_000 }),
  /** Longest a ClaimInstallation waits for a job. */
  REGISTRY_MAX_CLAIM_WAIT: vars.duration('30s', { min: 0, max: 300_000 }),
  /**
   * Most bytes of packages (manifests and other fields) a ClaimInstallation
   * answer carries; past it the answer names the package ids only
   * (`installation.install_order`) and the agent reads each with GetPackage.
   */
  REGISTRY_MAX_CLAIM_PACKAGE_BYTES: vars.bytes('1MiB', { min: 0, max: 3 * 1024 * 1024 }),
  /**
   * Least time between two writes of a job's reported log lines (one INSERT
   * and UPDATE per batch), and the longest a line waits: a line that comes
   * when the last write began longer ago than this is written at once.
   */
  REGISTRY_LOG_FLUSH_INTERVAL: vars.duration('10ms', { min: 1, max: 10_000 }),
  /** How many buffered log lines force a write. */
  REGISTRY_LOG_FLUSH_LINES: vars.integer(500, { min: 1, max: 100_000 }),
  /**
   * How often a running job's log lines are copied into `installations.logs`
   * (each copy rewrites that array; a final status always copies the rest).
   */
  REGISTRY_LOG_CHECKPOINT_INTERVAL: vars.duration('5s', { min: 1, max: 3_600_000 }),
  /** Most log lines one job holds; a report past it is RESOURCE_EXHAUSTED LOG_LIMIT_EXCEEDED (a final status is still taken). */
  REGISTRY_MAX_LOG_LINES_PER_JOB: vars.integer(100_000, { min: 1, max: 100_000_000 }),
  /** Most log bytes (UTF-8) one job holds, also the bound of the seed's `installations.logs`; past it as above. */
  REGISTRY_MAX_LOG_BYTES_PER_JOB: vars.bytes('32MiB', { min: 1024, max: 1024 * 1024 * 1024 }),
  /** Most log lines a GetInstallation answers (the first ones; `log_count` tells the total, WatchInstallation from that line gives the rest). */
  REGISTRY_MAX_LOG_LINES_PER_GET: vars.integer(10_000, { min: 1, max: 10_000_000 }),
  /**
   * How many packages GetPackage keeps in memory: only a yank or unyank
   * changes a package, and each call reads the yank state afresh (one batched
   * query per turn of the event loop), so a change through any replica is
   * seen at once.
   */
  REGISTRY_PACKAGE_CACHE_SIZE: vars.integer(10_000, { min: 0, max: 10_000_000 }),
  /** The bytes those cached packages may hold in all (manifest JSON and other fields); the least recently used go first. */
  REGISTRY_PACKAGE_CACHE_BYTES: vars.bytes('64MiB', { min: 0, max: 16 * 1024 * 1024 * 1024 }),
  /** Most bytes of packages one ListPackages page carries: a page ends early (with a next page token) rather than pass it. */
  REGISTRY_MAX_LIST_PAGE_BYTES: vars.bytes('2MiB', { min: 1024, max: 64 * 1024 * 1024 }),
  /** A client stream (ReportInstallation) that sends nothing for this long is ended with DEADLINE_EXCEEDED STREAM_IDLE. */
  REGISTRY_STREAM_IDLE_TIMEOUT: vars.duration('120s', { min: 10, max: 3_600_000 }),
  /**
   * Age after which a client connection is closed gracefully (GOAWAY), so that clients reconnect and
   * replicas behind a load balancer share long-lived HTTP/2 connections; 0s: never.
   */
  REGISTRY_MAX_CONNECTION_AGE: vars.duration('5m', { min: 0, max: 7 * 86_400_000 }),
  /** How long calls in flight on a connection past its age may go on before it is closed: at most the 10 s shutdown drain. */
  REGISTRY_MAX_CONNECTION_AGE_GRACE: vars.duration('10s', { min: 0, max: 10_000 }),
};

/** The registry's parsed configuration. */
export type RegistryConfig = ConfigOf<typeof registryConfigSpec>;

/** Reads and validates the registry's configuration. */
export function readRegistryConfig(env: NodeJS.ProcessEnv = process.env): RegistryConfig {
  return readConfig(registryConfigSpec, env);
}
