/**
 * How a Griot service starts, once for both: its server credentials, its
 * database (migrated), its page tokens, caller tokens and metrics, then what
 * the service builds on them, its gRPC server (health, readiness), its admin
 * HTTP server, and a graceful stop. A start that fails at any step closes
 * everything opened before it (servers, background work, the database)
 * before the error is thrown, so that a failed start leaves no connection,
 * listener or timer behind.
 */
import type { Logger } from 'pino';
import { startAdminServer, type AdminServer } from './admin';
import { callerAuthenticator, type CallerAuthenticator } from './caller-auth';
import { openDatabase, type Database } from './database';
import type { EmbeddedDatabaseKind } from './embedded-postgres';
import { ServiceMetrics } from './metrics';
import { runMigrations, type MigrationModule } from './migrate';
import { loadPageTokens } from './page-token-key';
import type { PageTokens } from './pagination';
import { databaseReadiness, fileWriteProbe, type ReadinessCheck } from './readiness';
import { GriotServer, type GriotServerOptions, type ServedService } from './server';
import { serverCredentialsFromConfig } from './tls';
import { traceDatabase } from './tracing';
import { USED_TOKENS_SWEEP_INTERVAL_MS, UsedTokens } from './used-tokens';

/**
 * The settings every service reads under its own prefix `P` (`REGISTRY`,
 * `CONTENT`): where it listens, its database, TLS files, page-token key,
 * caller tokens and stream and connection limits.
 */
export type ServiceConfig<P extends string> = {
  /** The folder of embedded databases. */
  GRIOT_DATA_DIR: string;
  /** The embedded database used when there is no database URL. */
  GRIOT_EMBEDDED_DATABASE: EmbeddedDatabaseKind;
} & Record<`${P}_LISTEN`, string> &
  Record<`${P}_ADMIN_LISTEN` | `${P}_DATABASE_URL` | `${P}_TLS_CERT` | `${P}_TLS_KEY` | `${P}_TLS_CLIENT_CA`, string | undefined> &
  Record<`${P}_PAGE_TOKEN_KEY`, Uint8Array | undefined> &
  Record<`${P}_TOKEN_AUDIENCE`, string> &
  Record<`${P}_MAX_TOKEN_SKEW` | `${P}_STREAM_IDLE_TIMEOUT` | `${P}_MAX_CONNECTION_AGE` | `${P}_MAX_CONNECTION_AGE_GRACE`, number>;

/** What a service builds its domain and handlers with. */
export interface BuildContext {
  /** The service's database, migrated. */
  db: Database;
  /** The migrations this start applied (empty when the database was up to date). */
  appliedMigrations: string[];
  /** The deployment's page tokens. */
  pageTokens: PageTokens;
  /** The service's metrics (the gRPC server's and the database pool's); the service adds its own to `metrics.registry`. */
  metrics: ServiceMetrics;
  /** The caller tokens accepted so far (swept by the service once it listens). */
  usedTokens: UsedTokens;
  /** Verifies caller tokens (`aud` `<P>_TOKEN_AUDIENCE`, skew `<P>_MAX_TOKEN_SKEW`), each usable once. */
  authenticate: CallerAuthenticator;
  /** The service's logger. */
  logger: Logger;
  /**
   * Registers what closes a resource the service opened (a listener, a
   * client, background work). Closers run newest first: after the gRPC
   * server has drained at a stop, or at once when the start fails.
   */
  onClose(close: () => unknown): void;
}

/** What a service's `build` gives back. */
export interface BuiltService {
  /** The API services to serve. */
  services: ServedService[];
  /** Readiness checks besides the database's (which is always checked). */
  readiness?: ReadinessCheck[];
  /** Transport options of the gRPC server. */
  transport?: Pick<GriotServerOptions, 'maxReceiveMessageLength' | 'flowControlWindow' | 'streamBuffering' | 'interceptors'>;
  /** Starts the service's background work (sweepers) once it listens; stop it with a closer ({@link BuildContext.onClose}). */
  start?(): void;
  /** Fields added to the "listening" log line. */
  describe?: Record<string, unknown>;
  /**
   * Local folders the service writes to (file storages), probed after a
   * write failed for want of space (the embedded database's folder is added).
   */
  writeFolders?: string[];
}

/** What {@link startService} needs. */
export interface StartServiceOptions<P extends string> {
  /** The service's name (its embedded database, its connections' application name), such as `content-store`. */
  name: string;
  /** How log lines name it, such as `content store` (`content store listening`). */
  title: string;
  /** The prefix of its variables, such as `CONTENT`. */
  prefix: P;
  /** Its configuration. */
  config: ServiceConfig<P>;
  /** The ErrorInfo domain of its errors. */
  domain: string;
  /** Its logger. */
  logger: Logger;
  /** Its migrations, oldest first. */
  migrations: MigrationModule[];
  /** Its knex migrations table. */
  migrationsTable: string;
  /** Largest database pool (PostgreSQL; default 10). */
  poolMax?: number;
  /** The clock caller tokens and their sweeps are checked against (default: the real time). */
  tokenClock?: () => Date;
  /** Builds the service (domain, handlers) on the opened database. */
  build(ctx: BuildContext): BuiltService | Promise<BuiltService>;
}

/** A running service. */
export interface RunningService {
  /** The bound port. */
  port: number;
  /** `host:port` to dial. */
  address: string;
  /** `host:port` of the admin HTTP server (/healthz, /readyz, /metrics), when `<P>_ADMIN_LISTEN` set one. */
  adminAddress?: string;
  /** Stops gracefully: refuses new calls, lets in-flight ones finish (bounded), closes the database. */
  stop(graceMs?: number): Promise<void>;
}

/**
 * Starts a service: credentials, database, migrations, page tokens, caller
 * tokens, metrics, the service's `build`, the gRPC server with health and
 * readiness, and the admin server.
 *
 * @throws ConfigError for bad TLS files, before anything is opened; any
 *   other error of a step, after everything opened before it was closed.
 */
export async function startService<P extends string>(options: StartServiceOptions<P>): Promise<RunningService> {
  const { config, prefix, logger } = options;
  const setting = <S extends string>(suffix: S) => config[`${prefix}_${suffix}` as keyof ServiceConfig<P>];
  // Built first: a bad certificate path is a configuration error, before anything is opened.
  const credentials = serverCredentialsFromConfig(prefix, {
    cert: setting('TLS_CERT') as string | undefined,
    key: setting('TLS_KEY') as string | undefined,
    clientCa: setting('TLS_CLIENT_CA') as string | undefined,
  });
  const db = await openDatabase({
    url: setting('DATABASE_URL') as string | undefined,
    dataDir: config.GRIOT_DATA_DIR,
    name: options.name,
    embedded: config.GRIOT_EMBEDDED_DATABASE,
    logger,
    poolMax: options.poolMax,
  });
  // Newest first at a stop or a failed start; the database closes last.
  const closers: (() => unknown)[] = [() => db.close()];
  // Every closer runs even when one fails; the first failure is thrown after the rest.
  const closeAll = async (): Promise<void> => {
    let failure: { err: unknown } | undefined;
    for (const close of closers.splice(0).reverse()) {
      try {
        await close();
      } catch (err) {
        failure ??= { err };
      }
    }
    if (failure) throw failure.err;
  };
  let server: GriotServer | undefined;
  let admin: AdminServer | undefined;
  try {
    logger.info('applying migrations');
    const appliedMigrations = await runMigrations(db.knex, options.migrations, options.migrationsTable);
    if (appliedMigrations.length > 0) logger.info({ applied: appliedMigrations }, 'migrations applied');
    const pageTokens = await loadPageTokens(db.knex, setting('PAGE_TOKEN_KEY') as Uint8Array | undefined);
    const metrics = new ServiceMetrics();
    metrics.observeDatabasePool(db.knex);
    traceDatabase(db.knex, 'postgresql');
    const tokenClock = options.tokenClock ?? (() => new Date());
    const usedTokens = new UsedTokens(db.knex, tokenClock);
    closers.push(() => usedTokens.stopSweeping());
    const authenticate = callerAuthenticator({
      audience: setting('TOKEN_AUDIENCE') as string,
      maxSkewSeconds: Math.floor((setting('MAX_TOKEN_SKEW') as number) / 1000),
      now: tokenClock,
      usedTokens,
    });
    const built = await options.build({ db, appliedMigrations, pageTokens, metrics, usedTokens, authenticate, logger, onClose: (close) => void closers.push(close) });
    server = new GriotServer({
      logger,
      domain: options.domain,
      services: built.services,
      credentials,
      metrics,
      streamIdleMs: setting('STREAM_IDLE_TIMEOUT') as number,
      maxConnectionAgeMs: setting('MAX_CONNECTION_AGE') as number,
      maxConnectionAgeGraceMs: setting('MAX_CONNECTION_AGE_GRACE') as number,
      ...built.transport,
      // Ready while the database (and what the service adds) answers.
      readiness: [databaseReadiness(db.knex), ...(built.readiness ?? [])],
      writeProbe: writeProbeFor([...(built.writeFolders ?? []), ...(setting('DATABASE_URL') ? [] : [config.GRIOT_DATA_DIR])]),
    });
    const listen = setting('LISTEN') as string;
    const port = await server.listen(listen);
    const address = `${listen.slice(0, listen.lastIndexOf(':'))}:${port}`;
    const adminListen = setting('ADMIN_LISTEN') as string | undefined;
    if (adminListen) {
      try {
        admin = await startAdminServer(adminListen, server, logger.child({ component: 'admin' }));
      } catch (err) {
        throw new Error(`${prefix}_ADMIN_LISTEN ${adminListen}: ${(err as Error).message}`, { cause: err });
      }
    }
    built.start?.();
    usedTokens.startSweeping(USED_TOKENS_SWEEP_INTERVAL_MS, logger.child({ component: 'used-tokens' }));
    const tls = setting('TLS_CERT') ? (setting('TLS_CLIENT_CA') ? 'mutual' : 'server') : 'off';
    logger.info({ address, tls, database: db.kind, ...built.describe }, `${options.title} listening`);
    if (admin) logger.info({ address: admin.address, paths: ['/healthz', '/readyz', '/metrics'] }, `${options.title} admin listening`);
    const running = server;
    const runningAdmin = admin;
    return {
      port,
      address,
      adminAddress: admin?.address,
      async stop(graceMs = 10_000) {
        await running.shutdown(graceMs);
        await closeAll();
        // Last, so that /healthz and /readyz answer "shutting down" while calls drain.
        await runningAdmin?.close();
      },
    };
  } catch (err) {
    // Whatever was opened, newest first.
    await admin?.close().catch((closeErr: unknown) => logger.warn({ err: closeErr }, 'closing the admin server after a failed start failed'));
    await server?.shutdown(0);
    await closeAll().catch((closeErr: unknown) => logger.warn({ err: closeErr }, 'closing after a failed start failed'));
    throw err;
  }
}

/** A probe of the folders a service writes to, or none (an external database, no file storage): the 10 s hold then applies alone. */
function writeProbeFor(folders: string[]): (() => Promise<void>) | undefined {
  return folders.length > 0 ? fileWriteProbe([...new Set(folders)]) : undefined;
}
