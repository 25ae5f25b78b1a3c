/**
 * Prometheus metrics of one service instance: a prom-client registry of its
 * own (tests start several services in one process, so nothing goes to
 * prom-client's global registry), the gRPC server metrics under the names and
 * labels of go-grpc-prometheus, the database pool, and, once an admin server
 * serves them, Node.js process metrics.
 *
 * The gRPC metrics cost a few additions per call: each method's counters are
 * plain numbers in an object made once per method, turned into Prometheus
 * series only when scraped.
 */
import type { Knex } from 'knex';
import { collectDefaultMetrics, Gauge, Registry, type Metric } from 'prom-client';

/** go-grpc-prometheus' default buckets of `grpc_server_handling_seconds` (Prometheus' DefBuckets). */
export const HANDLING_SECONDS_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] as const;

/** gRPC status names by code, as go-grpc-prometheus writes them in `grpc_code`. */
const CODE_NAMES = [
  'OK', 'Canceled', 'Unknown', 'InvalidArgument', 'DeadlineExceeded', 'NotFound', 'AlreadyExists', 'PermissionDenied', 'ResourceExhausted',
  'FailedPrecondition', 'Aborted', 'OutOfRange', 'Unimplemented', 'Internal', 'Unavailable', 'DataLoss', 'Unauthenticated',
] as const;

/** The `grpc_type` of a method. */
export type GrpcType = 'unary' | 'client_stream' | 'server_stream' | 'bidi_stream';

/** The counters of one method; {@link GrpcServerMetrics.method} makes it once, calls only add to it. */
export class MethodMetrics {
  /** `grpc_type`, `grpc_service` and `grpc_method`. */
  readonly labels: { grpc_type: GrpcType; grpc_service: string; grpc_method: string };
  started = 0;
  received = 0;
  sent = 0;
  /** Handled calls by status code (0 to 16). */
  readonly handled = new Float64Array(CODE_NAMES.length);
  /** Calls per histogram bucket (not cumulative), the last one being +Inf. */
  readonly buckets = new Float64Array(HANDLING_SECONDS_BUCKETS.length + 1);
  seconds = 0;

  constructor(path: string, requestStream: boolean, responseStream: boolean) {
    const slash = path.lastIndexOf('/');
    const type: GrpcType = requestStream ? (responseStream ? 'bidi_stream' : 'client_stream') : responseStream ? 'server_stream' : 'unary';
    this.labels = { grpc_type: type, grpc_service: path.slice(1, slash), grpc_method: path.slice(slash + 1) };
  }

  /** Records the end of a call. */
  handledWith(code: number, seconds: number): void {
    this.handled[code >= 0 && code < CODE_NAMES.length ? code : 2] += 1;
    let i = 0;
    while (i < HANDLING_SECONDS_BUCKETS.length && seconds > HANDLING_SECONDS_BUCKETS[i]!) i += 1;
    this.buckets[i] += 1;
    this.seconds += seconds;
  }
}

type Sample = { value: number; labels: Record<string, string | number>; metricName?: string };

/** A metric prom-client's registry formats, whose values are read from {@link MethodMetrics} at scrape time. */
function scrapedMetric(name: string, help: string, type: 'counter' | 'histogram', values: () => Sample[]): Metric {
  return {
    name,
    help,
    type,
    aggregator: 'sum',
    get: async () => ({ name, help, type, aggregator: 'sum', values: values() }),
    reset() {},
  } as unknown as Metric;
}

/** go-grpc-prometheus' server metrics, for every method of every service of one server. */
export class GrpcServerMetrics {
  private readonly methods: MethodMetrics[] = [];

  /** Registers the five metrics in `registry`. */
  constructor(registry: Registry) {
    const each = (pick: (m: MethodMetrics) => number): Sample[] => {
      const out: Sample[] = [];
      for (const m of this.methods) if (m.started > 0 || pick(m) > 0) out.push({ value: pick(m), labels: m.labels });
      return out;
    };
    registry.registerMetric(scrapedMetric('grpc_server_started_total', 'Total number of RPCs started on the server.', 'counter', () => each((m) => m.started)));
    registry.registerMetric(scrapedMetric('grpc_server_msg_received_total', 'Total number of RPC stream messages received on the server.', 'counter', () => each((m) => m.received)));
    registry.registerMetric(scrapedMetric('grpc_server_msg_sent_total', 'Total number of gRPC stream messages sent by the server.', 'counter', () => each((m) => m.sent)));
    registry.registerMetric(
      scrapedMetric('grpc_server_handled_total', 'Total number of RPCs completed on the server, regardless of success or failure.', 'counter', () => {
        const out: Sample[] = [];
        for (const m of this.methods) {
          m.handled.forEach((n, code) => {
            if (n > 0) out.push({ value: n, labels: { ...m.labels, grpc_code: CODE_NAMES[code]! } });
          });
        }
        return out;
      }),
    );
    registry.registerMetric(
      scrapedMetric('grpc_server_handling_seconds', 'Histogram of response latency (seconds) of gRPC that had been application-level handled by the server.', 'histogram', () => {
        const out: Sample[] = [];
        for (const m of this.methods) {
          let count = 0;
          m.buckets.forEach((n, i) => {
            count += n;
            const le = i < HANDLING_SECONDS_BUCKETS.length ? HANDLING_SECONDS_BUCKETS[i]! : '+Inf';
            out.push({ metricName: 'grpc_server_handling_seconds_bucket', value: count, labels: { ...m.labels, le } });
          });
          out.push({ metricName: 'grpc_server_handling_seconds_sum', value: m.seconds, labels: m.labels });
          out.push({ metricName: 'grpc_server_handling_seconds_count', value: count, labels: m.labels });
        }
        return out;
      }),
    );
  }

  /** The counters of one method, made once when the service is bound. */
  method(path: string, requestStream: boolean, responseStream: boolean): MethodMetrics {
    const made = new MethodMetrics(path, requestStream, responseStream);
    this.methods.push(made);
    return made;
  }
}

/** The metrics of one service instance. */
export class ServiceMetrics {
  /** This instance's registry: what its `/metrics` serves. */
  readonly registry = new Registry();
  /** The gRPC server metrics. */
  readonly grpc = new GrpcServerMetrics(this.registry);
  private processMetrics = false;

  /** Adds Node.js process metrics (once; an admin server asks for them when it starts). */
  collectProcessMetrics(): void {
    if (this.processMetrics) return;
    this.processMetrics = true;
    collectDefaultMetrics({ register: this.registry });
  }

  /** Adds `griot_db_pool_*` gauges read from the knex (tarn) pool at scrape time. */
  observeDatabasePool(knex: Knex): void {
    const pool = () => (knex.client as { pool?: { numUsed(): number; numFree(): number; numPendingAcquires(): number } }).pool;
    new Gauge({
      name: 'griot_db_pool_connections_in_use',
      help: 'Database connections in use by a query or transaction.',
      registers: [this.registry],
      collect() {
        this.set(pool()?.numUsed() ?? 0);
      },
    });
    new Gauge({
      name: 'griot_db_pool_connections_idle',
      help: 'Open database connections waiting in the pool.',
      registers: [this.registry],
      collect() {
        this.set(pool()?.numFree() ?? 0);
      },
    });
    new Gauge({
      name: 'griot_db_pool_waiting',
      help: 'Queries and transactions waiting for a database connection.',
      registers: [this.registry],
      collect() {
        this.set(pool()?.numPendingAcquires() ?? 0);
      },
    });
  }
}

/**
 * A gauge whose value is computed by `read` when scraped, cached for
 * `cacheMs` (queries against the database, say), labelled by the keys of the
 * record it answers.
 */
export function cachedGauge(registry: Registry, options: { name: string; help: string; labelName: string; cacheMs?: number; read: () => Promise<Record<string, number>> }): void {
  let cached: { at: number; values: Record<string, number> } | undefined;
  const cacheMs = options.cacheMs ?? 5000;
  new Gauge({
    name: options.name,
    help: options.help,
    labelNames: [options.labelName],
    registers: [registry],
    async collect() {
      if (!cached || Date.now() - cached.at > cacheMs) {
        try {
          cached = { at: Date.now(), values: await options.read() };
        } catch {
          // The database is down: the last values stay (readiness says why).
          cached = cached ? { ...cached, at: Date.now() } : { at: Date.now(), values: {} };
        }
      }
      this.reset();
      for (const [label, value] of Object.entries(cached.values)) this.set({ [options.labelName]: label }, value);
    },
  });
}
