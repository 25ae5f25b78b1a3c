/**
 * Binds promise-based handlers to a generated grpc-js service definition. Each
 * call gets a {@link CallContext} (request id, child logger, cancellation), its
 * errors mapped once by {@link toGrpcStatus}, and one log line at its end with
 * method, status code, duration, peer and request id. Methods without a
 * handler answer UNIMPLEMENTED.
 */
import { randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import {
  Metadata,
  type sendUnaryData,
  type ServerDuplexStream,
  type ServerReadableStream,
  type ServerUnaryCall,
  type ServerWritableStream,
  type ServiceDefinition,
  type StatusObject,
  type UntypedHandleCall,
  type UntypedServiceImplementation,
} from '@grpc/grpc-js';
import { setCallStreamBuffer } from '@griot/transport';
import type { Logger } from 'pino';
import { Code, codeName, GriotError } from './errors';
import { toGrpcStatus } from './grpc-status';
import type { GrpcServerMetrics, MethodMetrics } from './metrics';
import { activeTracer, endServerSpan, injectTraceContext, startServerSpan, withContext } from './tracing';

/** The metadata key of the request id, read from callers and passed downstream. */
export const REQUEST_ID_KEY = 'x-request-id';

/** What a handler knows about its call besides the request. */
export interface CallContext {
  /** The full method path, such as `/griot.content.v1.ContentService/UploadBlob`. */
  method: string;
  /** The caller's request id, or one made up for this call. */
  requestId: string;
  /** A logger bound to this call's method and request id. */
  logger: Logger;
  /** The call's request metadata. */
  metadata: Metadata;
  /** The caller's address. */
  peer: string;
  /** Aborted when the caller cancels or the deadline passes. */
  signal: AbortSignal;
  /** The call's deadline, when the caller set one. */
  deadline?: Date;
  /** Aborted when the server starts shutting down, so that long-lived streams can end early. */
  shutdownSignal: AbortSignal;
  /** Metadata to send on calls this call makes to other services (carries the request id). */
  outgoingMetadata(): Metadata;
}

/** A unary handler. */
export type UnaryHandler<Req, Res> = (request: Req, ctx: CallContext) => Promise<Res>;
/** A client-streaming handler: it reads the requests and answers once. */
export type ClientStreamHandler<Req, Res> = (requests: AsyncIterable<Req>, ctx: CallContext) => Promise<Res>;
/** A server-streaming handler: `send` resolves when the message is handed over (it waits on backpressure). */
export type ServerStreamHandler<Req, Res> = (request: Req, ctx: CallContext, send: (response: Res) => Promise<void>) => Promise<void>;
/** A bidirectional handler. */
export type BidiStreamHandler<Req, Res> = (requests: AsyncIterable<Req>, ctx: CallContext, send: (response: Res) => Promise<void>) => Promise<void>;

type MethodDef = ServiceDefinition[string];
type Req<M> = M extends { requestDeserialize: (b: Buffer) => infer R } ? R : never;
type Res<M> = M extends { responseSerialize: (v: infer R) => Buffer } ? R : never;

/** The handler type of one method of a generated definition. */
export type HandlerFor<M> = M extends { requestStream: true; responseStream: true }
  ? BidiStreamHandler<Req<M>, Res<M>>
  : M extends { requestStream: true }
    ? ClientStreamHandler<Req<M>, Res<M>>
    : M extends { responseStream: true }
      ? ServerStreamHandler<Req<M>, Res<M>>
      : UnaryHandler<Req<M>, Res<M>>;

/** Handlers for some or all methods of a generated service definition. */
export type ServiceHandlers<S> = { [K in keyof S]?: HandlerFor<S[K]> };

/** Options of {@link bindService}. */
export interface BindOptions {
  /** The root logger; each call logs through a child of it. */
  logger: Logger;
  /** The ErrorInfo domain of this service's errors. */
  domain: string;
  /** The level of the end-of-call line for successful calls (health checks use debug). */
  successLevel?: 'info' | 'debug';
  /** Aborted when the server starts shutting down. */
  shutdownSignal?: AbortSignal;
  /** A client stream that sends nothing for this long is ended with DEADLINE_EXCEEDED (default 120 s). */
  streamIdleMs?: number;
  /** Request metadata larger than this (names, values and 32 bytes per entry) is RESOURCE_EXHAUSTED (default 16 KiB). */
  maxMetadataBytes?: number;
  /** Stream buffering, in messages (default: Node's 16 each way); see {@link StreamBuffering}. */
  streamBuffering?: StreamBuffering;
  /** Where calls and messages are counted (go-grpc-prometheus' metrics); none when absent. */
  metrics?: GrpcServerMetrics;
  /** Sees the error of every failed call (the failing-write signal of readiness). */
  onError?: (err: unknown) => void;
}

/**
 * How many messages a stream holds between the transport and the handler.
 * Services that stream large messages want few: a message that waits in a
 * stream while the slower side catches up outlives V8's young generation,
 * and each one then costs part of a full garbage collection to free. The rest
 * waits in HTTP/2 flow control, which costs nothing.
 */
export interface StreamBuffering {
  /** Decoded requests a request stream keeps ahead of its handler. */
  readAhead: number;
  /** Responses a response stream accepts before the handler waits for the transport. */
  writeBehind: number;
}

/** The default largest request metadata, as gRPC's C core counts it (its hard limit). */
export const DEFAULT_MAX_METADATA_BYTES = 16 * 1024;

/** Longest delay a Node timer can hold. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** RESOURCE_EXHAUSTED METADATA_TOO_LARGE when the request metadata is over `limit` bytes. */
function metadataProblem(metadata: Metadata, limit: number): GriotError | undefined {
  let size = 0;
  for (const [key, values] of Object.entries(metadata.toJSON())) {
    for (const value of values) size += key.length + (typeof value === 'string' ? Buffer.byteLength(value) : value.length) + 32;
  }
  if (size <= limit) return undefined;
  return new GriotError(Code.RESOURCE_EXHAUSTED, 'METADATA_TOO_LARGE', `the request metadata is ${size} bytes; at most ${limit} bytes are accepted`, {
    metadata: { size: String(size), limit: String(limit) },
  });
}

/** A request whose bytes could not be decoded; handlers never see it: it becomes INVALID_ARGUMENT. */
export class MalformedRequest {
  /** @param cause - The decoder's error. */
  constructor(readonly cause: unknown) {}
}

/**
 * A copy of a definition whose request decoder turns undecodable bytes into a
 * {@link MalformedRequest} instead of throwing, which grpc-js would answer
 * with INTERNAL: malformed input is the caller's error, INVALID_ARGUMENT.
 */
export function withTolerantDecoding<S extends ServiceDefinition>(definition: S): S {
  const out: Record<string, MethodDef> = {};
  for (const [name, def] of Object.entries(definition) as [string, MethodDef][]) {
    out[name] = {
      ...def,
      requestDeserialize: (bytes: Buffer) => {
        try {
          return def.requestDeserialize(bytes);
        } catch (err) {
          return new MalformedRequest(err);
        }
      },
    };
  }
  return out as S;
}

function malformed(def: MethodDef): GriotError {
  return new GriotError(Code.INVALID_ARGUMENT, 'MALFORMED_REQUEST', `the request is not a valid ${requestTypeName(def)} message`);
}

function requestTypeName(def: MethodDef): string {
  return def.path.split('/').pop() + 'Request';
}

/** Turns handlers into a grpc-js service implementation. */
export function bindService<S extends ServiceDefinition>(
  definition: S,
  handlers: ServiceHandlers<S>,
  options: BindOptions,
): UntypedServiceImplementation {
  const impl: UntypedServiceImplementation = {};
  for (const [name, def] of Object.entries(definition) as [string, MethodDef][]) {
    const handler = (handlers as Record<string, unknown>)[name] as ((...args: never[]) => Promise<unknown>) | undefined;
    impl[name] = bindMethod(def, handler, options);
  }
  return impl;
}

/**
 * Runs `fn` for one call and logs its end; returns the status to send. The
 * call is counted in `stats` (its messages are counted by the callers of
 * runCall, readRequests and send) and, with tracing on, runs in a server span.
 */
async function runCall(
  def: MethodDef,
  call: { metadata: Metadata; getPeer(): string; getDeadline(): Date | number; on(event: 'cancelled', l: () => void): unknown; sendMetadata(m: Metadata): void },
  options: BindOptions,
  stats: MethodMetrics | undefined,
  fn: (ctx: CallContext) => Promise<void>,
): Promise<StatusObject | undefined> {
  const started = process.hrtime.bigint();
  if (stats) stats.started += 1;
  const requestId = pickRequestId(call.metadata);
  const tracer = activeTracer();
  const traced = tracer ? startServerSpan(tracer, def.path, call.metadata, requestId) : undefined;
  const controller = new AbortController();
  call.on('cancelled', () => controller.abort(new GriotError(Code.CANCELLED, 'CANCELLED', 'the call was cancelled')));
  const deadlineValue = call.getDeadline();
  const deadline = deadlineValue instanceof Date ? deadlineValue : Number.isFinite(deadlineValue) ? new Date(deadlineValue) : undefined;
  const peer = safePeer(call);
  const logger = options.logger.child({ method: def.path, requestId });
  const ctx: CallContext = {
    method: def.path,
    requestId,
    logger,
    metadata: call.metadata,
    peer,
    signal: controller.signal,
    deadline,
    shutdownSignal: options.shutdownSignal ?? new AbortController().signal,
    outgoingMetadata() {
      const m = new Metadata();
      m.set(REQUEST_ID_KEY, requestId);
      if (traced) injectTraceContext(traced.context, m);
      return m;
    },
  };
  const initial = new Metadata();
  initial.set(REQUEST_ID_KEY, requestId);
  try {
    call.sendMetadata(initial);
  } catch {
    // The call may already be over (cancelled before we started).
  }
  // grpc-js reports a passed deadline as a cancellation only once the stream has closed, which can
  // be after a handler committed a write; abort the signal at the deadline itself, as documented.
  const untilDeadline = deadline ? deadline.getTime() - Date.now() : Infinity;
  const deadlineTimer = untilDeadline < MAX_TIMER_MS
    ? setTimeout(() => controller.abort(new GriotError(Code.DEADLINE_EXCEEDED, 'DEADLINE_EXCEEDED', 'the call deadline passed')), Math.max(0, untilDeadline))
    : undefined;
  let status: StatusObject | undefined;
  try {
    const tooLarge = metadataProblem(call.metadata, options.maxMetadataBytes ?? DEFAULT_MAX_METADATA_BYTES);
    if (tooLarge) throw tooLarge;
    await (traced ? withContext(traced.context, () => fn(ctx)) : fn(ctx));
  } catch (err) {
    status = controller.signal.aborted && !(err instanceof GriotError)
      ? { code: Code.CANCELLED, details: 'the call was cancelled', metadata: new Metadata() }
      : toGrpcStatus(err, { domain: options.domain, requestId });
    options.onError?.(err);
    if (status.code === Code.INTERNAL) logger.error({ err }, 'unexpected error');
    else if (status.code === Code.UNAVAILABLE) logger.warn({ err }, 'dependency unavailable');
  } finally {
    clearTimeout(deadlineTimer);
  }
  const durationMs = Number(process.hrtime.bigint() - started) / 1e6;
  const code = status?.code ?? Code.OK;
  stats?.handledWith(code, durationMs / 1000);
  if (traced) endServerSpan(traced.span, code, status?.details);
  const line = { peer, code: codeName(code), durationMs: Math.round(durationMs * 1000) / 1000 };
  if (code === Code.OK) logger[options.successLevel ?? 'info'](line, 'rpc');
  else logger.info({ ...line, reason: status?.details }, 'rpc');
  return status;
}

function bindMethod(def: MethodDef, handler: ((...args: never[]) => Promise<unknown>) | undefined, options: BindOptions): UntypedHandleCall {
  const run = handler ?? (async () => {
    throw new GriotError(Code.UNIMPLEMENTED, 'UNIMPLEMENTED', `${def.path} is not implemented yet`);
  });
  // Made once per method: a call only adds to its numbers.
  const stats = options.metrics?.method(def.path, def.requestStream, def.responseStream);
  if (!def.requestStream && !def.responseStream) {
    return ((call: ServerUnaryCall<unknown, unknown>, callback: sendUnaryData<unknown>) => {
      let response: unknown;
      if (stats) stats.received += 1;
      void runCall(def, call, options, stats, async (ctx) => {
        if (call.request instanceof MalformedRequest) throw malformed(def);
        response = await (run as UnaryHandler<unknown, unknown>)(call.request, ctx);
      }).then((status) => {
        if (status) return callback(status);
        if (stats) stats.sent += 1;
        callback(null, response);
      });
    }) as never;
  }
  if (def.requestStream && !def.responseStream) {
    return ((call: ServerReadableStream<unknown, unknown>, callback: sendUnaryData<unknown>) => {
      let response: unknown;
      void runCall(def, call, options, stats, async (ctx) => {
        response = await (run as ClientStreamHandler<unknown, unknown>)(readRequests(call, ctx, def, options, stats), ctx);
      }).then((status) => {
        if (status) return callback(status);
        if (stats) stats.sent += 1;
        callback(null, response);
      });
    }) as never;
  }
  if (!def.requestStream && def.responseStream) {
    return ((call: ServerWritableStream<unknown, unknown>) => {
      setCallStreamBuffer(call, '_writableState', options.streamBuffering?.writeBehind);
      if (stats) stats.received += 1;
      void runCall(def, call, options, stats, async (ctx) => {
        if (call.request instanceof MalformedRequest) throw malformed(def);
        await (run as ServerStreamHandler<unknown, unknown>)(call.request, ctx, (m) => send(call, m, ctx, stats));
      }).then((status) => finish(call, status));
    }) as never;
  }
  return ((call: ServerDuplexStream<unknown, unknown>) => {
    setCallStreamBuffer(call, '_writableState', options.streamBuffering?.writeBehind);
    void runCall(def, call, options, stats, async (ctx) => {
      await (run as BidiStreamHandler<unknown, unknown>)(readRequests(call, ctx, def, options, stats, { keepWritable: true }), ctx, (m) => send(call, m, ctx, stats));
    }).then((status) => finish(call, status));
  }) as never;
}

/**
 * The requests of a stream. Iteration fails with CANCELLED when the caller
 * cancels, INVALID_ARGUMENT on an undecodable message, and DEADLINE_EXCEEDED
 * when the caller sends nothing for `idleMs`.
 *
 * With `keepWritable` (a bidirectional call), the end of the requests leaves
 * the call open: a Readable's own async iterator destroys its stream when it
 * ends, and a destroyed duplex never sends its status, so a client that
 * half-closed would wait for the rest of the answer until its deadline.
 */
async function* readRequests<T>(
  call: Readable,
  ctx: CallContext,
  def: MethodDef,
  options: BindOptions,
  stats: MethodMetrics | undefined,
  { keepWritable = false }: { keepWritable?: boolean } = {},
): AsyncIterable<T> {
  const idleMs = options.streamIdleMs ?? 120_000;
  setCallStreamBuffer(call, '_readableState', options.streamBuffering?.readAhead);
  const iterator: AsyncIterator<T> = call.iterator({ destroyOnReturn: !keepWritable });
  try {
    for (;;) {
      let timer: NodeJS.Timeout | undefined;
      const idle = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new GriotError(Code.DEADLINE_EXCEEDED, 'STREAM_IDLE', `no message arrived for ${idleMs / 1000} s; the stream was closed`)),
          idleMs,
        );
      });
      let next: IteratorResult<T>;
      try {
        next = await Promise.race([iterator.next(), idle]);
      } finally {
        clearTimeout(timer);
      }
      if (next.done || ctx.signal.aborted) break;
      if (stats) stats.received += 1;
      if (next.value instanceof MalformedRequest) throw malformed(def);
      yield next.value;
    }
  } finally {
    // Not awaited: with a read still pending (an idle stream), return() would wait for it.
    iterator.return?.()?.catch(() => undefined);
  }
  if (ctx.signal.aborted) throw ctx.signal.reason;
}

/** Writes one message, waiting while the transport's buffer is full. */
function send(
  call: ServerWritableStream<unknown, unknown> | ServerDuplexStream<unknown, unknown>,
  message: unknown,
  ctx: CallContext,
  stats: MethodMetrics | undefined,
): Promise<void> {
  if (ctx.signal.aborted) return Promise.reject(ctx.signal.reason);
  if (stats) stats.sent += 1;
  if (call.write(message)) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      call.off('drain', onDrain);
      reject(ctx.signal.reason);
    };
    const onDrain = () => {
      ctx.signal.removeEventListener('abort', onAbort);
      resolve();
    };
    call.once('drain', onDrain);
    ctx.signal.addEventListener('abort', onAbort, { once: true });
  });
}

function finish(call: ServerWritableStream<unknown, unknown> | ServerDuplexStream<unknown, unknown>, status: StatusObject | undefined): void {
  if (status) call.emit('error', status);
  else call.end();
}

function pickRequestId(metadata: Metadata): string {
  const given = metadata.get(REQUEST_ID_KEY)[0];
  if (typeof given === 'string' && /^[\x21-\x7e]{1,128}$/.test(given)) return given;
  return randomUUID();
}

function safePeer(call: { getPeer(): string }): string {
  try {
    return call.getPeer();
  } catch {
    return 'unknown';
  }
}
