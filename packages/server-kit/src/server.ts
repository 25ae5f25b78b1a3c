/**
 * A grpc-js server with what every Griot service serves besides its own API:
 * health, reflection v1 and v1alpha, and a graceful shutdown.
 */
import { Server, ServerCredentials, type ServerInterceptor, type ServiceDefinition, type UntypedServiceImplementation } from '@grpc/grpc-js';
import { health, readDescriptorSet, reflectionV1, reflectionV1alpha } from '@griot/proto';
import type { Logger } from 'pino';
import { HealthState, healthHandlers } from './health';
import { setServerFlowControlWindow } from '@griot/transport';
import { DescriptorIndex, reflectionHandlers } from './reflection';
import { ServiceMetrics } from './metrics';
import { Readiness, WriteFailures, type ReadinessCheck, type ReadinessState } from './readiness';
import { bindService, withKeptEncodings, withTolerantDecoding, type ServiceHandlers, type StreamBuffering } from './rpc';

/** One API service to serve. */
export interface ServedService<S extends ServiceDefinition = ServiceDefinition> {
  /** The fully qualified proto name, such as `griot.content.v1.ContentService`. */
  name: string;
  /** The generated grpc-js definition. */
  definition: S;
  /** The handlers; missing ones answer UNIMPLEMENTED. */
  handlers: ServiceHandlers<S>;
}

/**
 * Pairs a generated definition with its handlers, type-checking each handler
 * against its method (unary, client-, server- or bidi-streaming).
 */
export function defineService<S extends ServiceDefinition>(name: string, definition: S, handlers: ServiceHandlers<S>): ServedService {
  return { name, definition, handlers: handlers as ServiceHandlers<ServiceDefinition> };
}

/** Options of {@link GriotServer}. */
export interface GriotServerOptions {
  /** The root logger. */
  logger: Logger;
  /** The ErrorInfo domain of the service's errors. */
  domain: string;
  /** The API services to serve. */
  services: ServedService[];
  /** Largest message accepted, in bytes (default 8 MiB). */
  maxReceiveMessageLength?: number;
  /** A client stream that sends nothing for this long is ended with DEADLINE_EXCEEDED (default 120 s). */
  streamIdleMs?: number;
  /** Request metadata larger than this is RESOURCE_EXHAUSTED METADATA_TOO_LARGE (default 16 KiB). */
  maxMetadataBytes?: number;
  /** Server credentials (default: plaintext). */
  credentials?: ServerCredentials;
  /**
   * The HTTP/2 receive window of each stream and connection, in bytes: how
   * much a client may send before the server's WINDOW_UPDATE (default: HTTP/2's
   * 64 KiB). Large client streams (uploads) go faster with a larger window.
   */
  flowControlWindow?: number;
  /** Messages held in each stream between transport and handler (default: Node's 16 each way). */
  streamBuffering?: StreamBuffering;
  /** grpc-js server interceptors, first to last (such as @griot/transport's `requestDeframer`). */
  interceptors?: ServerInterceptor[];
  /** Where calls are counted (default: a registry of this server's own). */
  metrics?: ServiceMetrics;
  /**
   * What the service needs to be ready (its database, its storage): checked
   * once at listen, then every `readinessIntervalMs`; health is SERVING only
   * while they all answer. None: SERVING from listen to shutdown.
   */
  readiness?: ReadinessCheck[];
  /** Time between readiness rounds (default 1 s). */
  readinessIntervalMs?: number;
  /**
   * After a write failed for want of space or files, readiness stays false
   * until this probe writes again (see {@link WriteFailures}); without it,
   * for 10 s after the last such failure.
   */
  writeProbe?: () => Promise<void>;
  /**
   * Age after which a client connection is sent GOAWAY (grpc-js adds up to
   * 10 % jitter), so that clients reconnect and long-lived HTTP/2 connections
   * spread over new replicas behind a load balancer. 0 or unset: never.
   */
  maxConnectionAgeMs?: number;
  /** How long calls in flight on a connection past its age may go on before it is closed (default 10 s). */
  maxConnectionAgeGraceMs?: number;
}

const HEALTH = 'grpc.health.v1.Health';
const REFLECTION_V1 = 'grpc.reflection.v1.ServerReflection';
const REFLECTION_V1ALPHA = 'grpc.reflection.v1alpha.ServerReflection';

/** A gRPC server that serves API services, health and reflection, and shuts down gracefully. */
export class GriotServer {
  /** The health of each served service. */
  readonly health: HealthState;
  /** This server's metrics: the gRPC server metrics, and what the service adds. */
  readonly metrics: ServiceMetrics;
  private readonly readiness?: Readiness;
  private readonly server: Server;
  private readonly logger: Logger;
  private readonly credentials: ServerCredentials;
  private stopping?: Promise<void>;
  private readonly shutdownController = new AbortController();

  constructor(options: GriotServerOptions) {
    this.logger = options.logger;
    this.credentials = options.credentials ?? ServerCredentials.createInsecure();
    this.server = new Server({
      'grpc.max_receive_message_length': options.maxReceiveMessageLength ?? 8 * 1024 * 1024,
      'grpc.keepalive_permit_without_calls': 1,
      'grpc.http2.min_ping_interval_without_data_ms': 10_000,
      ...(options.interceptors ? { interceptors: options.interceptors } : {}),
      ...(options.maxConnectionAgeMs
        ? { 'grpc.max_connection_age_ms': options.maxConnectionAgeMs, 'grpc.max_connection_age_grace_ms': options.maxConnectionAgeGraceMs ?? 10_000 }
        : {}),
    });
    if (options.flowControlWindow !== undefined) setServerFlowControlWindow(this.server, options.flowControlWindow);
    const apiNames = options.services.map((s) => s.name);
    this.health = new HealthState(apiNames);
    this.metrics = options.metrics ?? new ServiceMetrics();
    const writeFailures = new WriteFailures(undefined, undefined, options.writeProbe);
    if (options.readiness && options.readiness.length > 0) {
      this.readiness = new Readiness([...options.readiness, writeFailures], {
        intervalMs: options.readinessIntervalMs,
        logger: options.logger,
        onChange: (state) => {
          if (!this.stopping) this.health.setAll(state.ready);
        },
      });
    }
    const index = new DescriptorIndex(readDescriptorSet());
    for (const name of apiNames) {
      if (!index.hasService(name)) throw new Error(`service ${name} is not in the descriptor set; run pnpm generate`);
    }
    // A write that failed for want of space or files makes the service not ready at once.
    const onError = (err: unknown): void => {
      if (writeFailures.note(err)) void this.readiness?.checkNow();
    };
    const bind = { logger: options.logger, domain: options.domain, shutdownSignal: this.shutdownController.signal, streamIdleMs: options.streamIdleMs, maxMetadataBytes: options.maxMetadataBytes, streamBuffering: options.streamBuffering, metrics: this.metrics.grpc, onError };
    for (const service of options.services) {
      this.server.addService(withKeptEncodings(withTolerantDecoding(service.definition)), bindService(service.definition, service.handlers, bind));
    }
    const quiet = { ...bind, successLevel: 'debug' as const };
    const listed = [...apiNames, HEALTH, REFLECTION_V1, REFLECTION_V1ALPHA];
    this.server.addService(health.HealthService, bindService(health.HealthService, healthHandlers(this.health), quiet));
    const reflection = reflectionHandlers(index, listed);
    this.server.addService(reflectionV1.ServerReflectionService, bindService(reflectionV1.ServerReflectionService, reflection, quiet));
    // v1alpha messages are wire-identical to v1, so the same handlers serve both.
    this.server.addService(
      reflectionV1alpha.ServerReflectionService,
      bindService(reflectionV1alpha.ServerReflectionService, reflection as unknown as ServiceHandlers<typeof reflectionV1alpha.ServerReflectionService>, quiet),
    );
  }

  /** Adds a raw implementation, for tests that need a service of their own. */
  addRawService(definition: ServiceDefinition, implementation: UntypedServiceImplementation): void {
    this.server.addService(definition, implementation);
  }

  /**
   * Binds the address (port 0 picks a free port), marks every service SERVING
   * (or, with readiness checks, as their first round says, then as each
   * change says), and resolves with the bound port.
   */
  async listen(address: string): Promise<number> {
    const port = await new Promise<number>((resolve, reject) => {
      this.server.bindAsync(address, this.credentials, (err, bound) => (err ? reject(err) : resolve(bound)));
    });
    if (this.readiness) {
      const first = await this.readiness.start();
      if (!first.ready) this.logger.warn({ reason: first.reason }, 'not ready');
      this.health.setAll(first.ready);
    } else {
      this.health.setAll(true);
    }
    return port;
  }

  /** True once {@link shutdown} was called. */
  get shuttingDown(): boolean {
    return this.stopping !== undefined;
  }

  /** The last readiness outcome (always ready without checks, until shutdown). */
  readinessState(): ReadinessState {
    if (this.readiness) return this.readiness.state;
    return { ready: !this.shuttingDown, reason: this.shuttingDown ? 'shutting down' : '', checkedAt: Date.now() };
  }

  /**
   * Shuts down: health goes NOT_SERVING, new calls are refused, in-flight
   * calls may finish for up to `graceMs`, then the rest are cancelled.
   */
  shutdown(graceMs = 10_000): Promise<void> {
    this.stopping ??= new Promise<void>((resolve) => {
      this.readiness?.stop();
      this.health.setAll(false);
      // Long-lived streams (health and installation watches) end on this signal.
      this.shutdownController.abort();
      const timer = setTimeout(() => {
        this.logger.warn({ graceMs }, 'in-flight calls did not finish in time; cancelling them');
        this.server.forceShutdown();
        resolve();
      }, graceMs);
      timer.unref();
      this.server.tryShutdown(() => {
        clearTimeout(timer);
        resolve();
      });
    });
    return this.stopping;
  }
}
