/**
 * The standard gRPC health service (grpc.health.v1): Check, List and Watch
 * over a status per service name, the empty name being the whole server.
 */
import { EventEmitter } from 'node:events';
import { health } from '@griot/proto';
import { Code, GriotError } from './errors';
import type { ServiceHandlers } from './rpc';

const { ServingStatus } = { ServingStatus: health.HealthCheckResponse_ServingStatus };

/** The serving status of each service of a server. */
export class HealthState {
  private readonly statuses = new Map<string, health.HealthCheckResponse_ServingStatus>();
  private readonly changes = new EventEmitter();

  /** @param services - The service names to track, besides the empty name of the whole server. */
  constructor(services: string[]) {
    this.changes.setMaxListeners(0);
    for (const name of ['', ...services]) this.statuses.set(name, ServingStatus.NOT_SERVING);
  }

  /** Sets every service, and the server, to SERVING or NOT_SERVING. */
  setAll(serving: boolean): void {
    const status = serving ? ServingStatus.SERVING : ServingStatus.NOT_SERVING;
    for (const name of this.statuses.keys()) {
      this.statuses.set(name, status);
      this.changes.emit('change', name, status);
    }
  }

  /** The status of a service, or undefined when it is not tracked. */
  get(service: string): health.HealthCheckResponse_ServingStatus | undefined {
    return this.statuses.get(service);
  }

  /** Every tracked service and its status. */
  entries(): [string, health.HealthCheckResponse_ServingStatus][] {
    return [...this.statuses.entries()];
  }

  /** Calls `listener` on each status change; returns the unsubscribe function. */
  onChange(listener: (service: string, status: health.HealthCheckResponse_ServingStatus) => void): () => void {
    this.changes.on('change', listener);
    return () => this.changes.off('change', listener);
  }
}

/** Handlers of grpc.health.v1.Health over a {@link HealthState}. */
export function healthHandlers(state: HealthState): ServiceHandlers<typeof health.HealthService> {
  return {
    async check(request) {
      const status = state.get(request.service);
      if (status === undefined) throw new GriotError(Code.NOT_FOUND, 'SERVICE_UNKNOWN', `service "${request.service}" is not known to this server`);
      return { status };
    },
    async list() {
      return { statuses: Object.fromEntries(state.entries().map(([name, status]) => [name, { status }])) };
    },
    async watch(request, ctx, send) {
      let last: health.HealthCheckResponse_ServingStatus | undefined;
      let wake: (() => void) | undefined;
      const unsubscribe = state.onChange((name) => {
        if (name === request.service) wake?.();
      });
      try {
        for (;;) {
          const status = state.get(request.service) ?? ServingStatus.SERVICE_UNKNOWN;
          if (status !== last && !ctx.signal.aborted) {
            await send({ status });
            last = status;
          }
          // After the final NOT_SERVING, a shutting-down server ends the watch so it does not hold up the shutdown.
          if (ctx.signal.aborted || ctx.shutdownSignal.aborted) break;
          await new Promise<void>((resolve) => {
            wake = resolve;
            ctx.signal.addEventListener('abort', () => resolve(), { once: true });
            ctx.shutdownSignal.addEventListener('abort', () => resolve(), { once: true });
          });
        }
      } finally {
        unsubscribe();
      }
    },
  };
}
