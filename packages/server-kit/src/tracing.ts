/**
 * OpenTelemetry tracing, off unless the standard OTEL_* variables turn it on
 * (or a test starts it with an exporter of its own). When on: a server span
 * per RPC (rpc.ts), its context read from the caller's W3C `traceparent`
 * metadata and passed on with {@link CallContext.outgoingMetadata}, and a
 * span per database query made within a call ({@link traceDatabase}). When
 * off, nothing is allocated: rpc.ts asks {@link activeTracer} and skips
 * every step on undefined.
 */
import { context, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Context, type Span, type TextMapGetter, type TextMapSetter, type Tracer } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor, ConsoleSpanExporter, SimpleSpanProcessor, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import type { Metadata } from '@grpc/grpc-js';
import type { Knex } from 'knex';
import { ConfigError } from './config';

/** The span attribute holding the call's request id (x-request-id). */
export const REQUEST_ID_ATTRIBUTE = 'griot.request_id';

const REQUEST_ID_CONTEXT_KEY = Symbol.for('griot.request_id');

let tracer: Tracer | undefined;

/** The tracer of Griot's spans, or undefined while tracing is off. */
export function activeTracer(): Tracer | undefined {
  return tracer;
}

/** Options of {@link startTracing}. */
export interface TracingOptions {
  /** `service.name` of the spans, unless OTEL_SERVICE_NAME says otherwise. */
  serviceName: string;
  /** Export to this exporter, each span as it ends (tests: an InMemorySpanExporter), whatever the environment says. */
  exporter?: SpanExporter;
  /** The environment (default: process.env). */
  env?: NodeJS.ProcessEnv;
}

/** Running tracing. */
export interface Tracing {
  /** What spans go to: `otlp`, `console` or `custom`. */
  exporter: string;
  /** Sends the spans not sent yet and stops tracing. */
  shutdown(): Promise<void>;
}

/**
 * Starts tracing when the environment asks for it: `OTEL_TRACES_EXPORTER`
 * `otlp` (or unset with `OTEL_EXPORTER_OTLP_ENDPOINT` or
 * `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` set: OTLP over HTTP/protobuf-JSON to
 * that collector) or `console`; `none`, unset without an endpoint, or
 * `OTEL_SDK_DISABLED=true`: off, and undefined is answered. The exporter reads
 * the other OTEL_EXPORTER_OTLP_* variables itself, the provider
 * OTEL_TRACES_SAMPLER and its argument.
 * @throws ConfigError on an exporter it does not know.
 */
export function startTracing(options: TracingOptions): Tracing | undefined {
  const env = options.env ?? process.env;
  let exporter = options.exporter;
  let kind = 'custom';
  if (!exporter) {
    if ((env.OTEL_SDK_DISABLED ?? '').trim().toLowerCase() === 'true') return undefined;
    const endpoint = (env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ?? env.OTEL_EXPORTER_OTLP_ENDPOINT ?? '').trim();
    const names = (env.OTEL_TRACES_EXPORTER ?? '').split(',').map((s) => s.trim().toLowerCase()).filter(Boolean);
    kind = names[0] ?? (endpoint ? 'otlp' : 'none');
    if (kind === 'none') return undefined;
    if (kind === 'otlp') exporter = new OTLPTraceExporter();
    else if (kind === 'console') exporter = new ConsoleSpanExporter();
    else throw new ConfigError('OTEL_TRACES_EXPORTER', `"${kind}" is not one of otlp, console, none`);
  }
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': env.OTEL_SERVICE_NAME?.trim() || options.serviceName }),
    spanProcessors: [options.exporter ? new SimpleSpanProcessor(exporter) : new BatchSpanProcessor(exporter)],
  });
  const contextManager = new AsyncLocalStorageContextManager().enable();
  context.setGlobalContextManager(contextManager);
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  trace.setGlobalTracerProvider(provider);
  tracer = provider.getTracer('griot');
  return {
    exporter: kind,
    async shutdown() {
      tracer = undefined;
      await provider.shutdown();
      trace.disable();
      propagation.disable();
      context.disable();
    },
  };
}

/** Reads gRPC metadata as a carrier of `traceparent`/`tracestate`. */
export const metadataGetter: TextMapGetter<Metadata> = {
  keys: (carrier) => Object.keys(carrier.getMap()),
  get: (carrier, key) => {
    const values = carrier.get(key);
    return values.length === 0 ? undefined : values.map(String);
  },
};

/** Writes `traceparent`/`tracestate` into gRPC metadata. */
export const metadataSetter: TextMapSetter<Metadata> = {
  set: (carrier, key, value) => carrier.set(key, value),
};

/** A started server span and the context its call runs in. */
export interface ServerSpan {
  span: Span;
  context: Context;
}

/** Starts the server span of one call, child of the caller's `traceparent` when it sent one. */
export function startServerSpan(t: Tracer, path: string, metadata: Metadata, requestId: string): ServerSpan {
  const parent = propagation.extract(ROOT_CONTEXT, metadata, metadataGetter);
  const slash = path.lastIndexOf('/');
  const service = path.slice(1, slash);
  const method = path.slice(slash + 1);
  const span = t.startSpan(
    `${service}/${method}`,
    { kind: SpanKind.SERVER, attributes: { 'rpc.system': 'grpc', 'rpc.service': service, 'rpc.method': method, [REQUEST_ID_ATTRIBUTE]: requestId } },
    parent,
  );
  return { span, context: trace.setSpan(parent, span).setValue(REQUEST_ID_CONTEXT_KEY, requestId) };
}

/** Ends a server span with the call's status code. */
export function endServerSpan(span: Span, code: number, details: string | undefined): void {
  span.setAttribute('rpc.grpc.status_code', code);
  // As OpenTelemetry's gRPC conventions say: for a server, only these codes are errors.
  if (code === 2 || code === 4 || code === 12 || code === 13 || code === 14 || code === 15) span.setStatus({ code: SpanStatusCode.ERROR, message: details });
  span.end();
}

/** Adds the span context of `ctx` (the call's) to outgoing metadata. */
export function injectTraceContext(ctx: Context, metadata: Metadata): void {
  propagation.inject(ctx, metadata, metadataSetter);
}

/**
 * Runs `fn` in a client span (a call to another service), with the span's
 * context in `metadata`; without tracing, just runs `fn`.
 */
export async function withClientSpan<T>(path: string, metadata: Metadata, fn: (metadata: Metadata) => Promise<T>): Promise<T> {
  const t = tracer;
  if (!t) return fn(metadata);
  const slash = path.lastIndexOf('/');
  const parent = context.active();
  const span = t.startSpan(
    path.slice(1),
    {
      kind: SpanKind.CLIENT,
      attributes: { 'rpc.system': 'grpc', 'rpc.service': path.slice(1, slash), 'rpc.method': path.slice(slash + 1), ...requestIdAttribute(parent) },
    },
    parent,
  );
  const out = metadata.clone();
  propagation.inject(trace.setSpan(parent, span), out, metadataSetter);
  try {
    const result = await fn(out);
    span.setAttribute('rpc.grpc.status_code', 0);
    return result;
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (typeof code === 'number') span.setAttribute('rpc.grpc.status_code', code);
    span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error).message });
    throw err;
  } finally {
    span.end();
  }
}

function requestIdAttribute(ctx: Context): Record<string, string> {
  const id = ctx.getValue(REQUEST_ID_CONTEXT_KEY);
  return typeof id === 'string' ? { [REQUEST_ID_ATTRIBUTE]: id } : {};
}

/**
 * A span per query made within a traced call (queries of background loops,
 * which have no call, make none), named after the SQL verb, with the
 * statement (its placeholders, never its values). Does nothing while tracing
 * is off when it is called: services call it once they started tracing.
 */
export function traceDatabase(knex: Knex, system: 'postgresql'): void {
  if (!tracer) return;
  const open = new Map<string, Span>();
  knex.on('query', (query: { __knexQueryUid?: string; sql?: string }) => {
    const t = tracer;
    const uid = query.__knexQueryUid;
    if (!t || !uid) return;
    const parent = context.active();
    if (!trace.getSpan(parent)) return;
    const sql = query.sql ?? '';
    const verb = /^\s*(\w+)/.exec(sql)?.[1]?.toUpperCase() ?? 'QUERY';
    open.set(
      uid,
      t.startSpan(
        verb,
        { kind: SpanKind.CLIENT, attributes: { 'db.system': system, 'db.operation': verb, 'db.statement': sql.length > 2048 ? `${sql.slice(0, 2048)}…` : sql, ...requestIdAttribute(parent) } },
        parent,
      ),
    );
  });
  const end = (query: { __knexQueryUid?: string } | undefined, err?: Error) => {
    const uid = query?.__knexQueryUid;
    const span = uid ? open.get(uid) : undefined;
    if (!span || !uid) return;
    open.delete(uid);
    if (err) span.setStatus({ code: SpanStatusCode.ERROR, message: err.message });
    span.end();
  };
  knex.on('query-response', (_response: unknown, query: { __knexQueryUid?: string }) => end(query));
  knex.on('query-error', (err: Error, query: { __knexQueryUid?: string }) => end(query, err));
}

/** Runs `fn` within `ctx` (the call's context), so that spans made inside are its children. */
export function withContext<T>(ctx: Context, fn: () => T): T {
  return context.with(ctx, fn);
}
