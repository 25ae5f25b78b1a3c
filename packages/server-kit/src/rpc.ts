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
import { framedMessage, setCallStreamBuffer } from '@griot/transport';
import type { Logger } from 'pino';
import { Code, codeName, GriotError } from './errors';
import { toGrpcStatus } from './grpc-status';
import type { GrpcServerMetrics, MethodMetrics } from './metrics';
import { activeTracer, endServerSpan, injectTraceContext, startServerSpan, withContext, type ServerSpan } from './tracing';

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

/** Response messages marked by {@link keepEncoding}, with their bytes once encoded (null until then). */
const keptEncodings = new WeakMap<object, Buffer | null>();

/**
 * Marks a response message whose encoding is kept: the first time it is
 * sent its bytes are kept, for as long as the object lives, and sent again
 * whenever the same object is answered, without encoding or copying it again
 * (they are kept with their gRPC frame header, see @griot/transport's
 * framedMessage). For answers a cache hands out; the
 * message, and everything it refers to, must never change afterwards. Only
 * services served by a {@link GriotServer} honour the mark (their
 * definitions go through {@link withKeptEncodings}).
 * @returns The message.
 */
export function keepEncoding<T extends object>(message: T): T {
  if (!keptEncodings.has(message)) keptEncodings.set(message, null);
  return message;
}

/** A copy of a definition whose response encoder keeps and reuses the bytes of messages marked by {@link keepEncoding}. */
export function withKeptEncodings<S extends ServiceDefinition>(definition: S): S {
  const out: Record<string, MethodDef> = {};
  for (const [name, def] of Object.entries(definition) as [string, MethodDef][]) {
    out[name] = {
      ...def,
      responseSerialize: (value: unknown) => {
        const kept = typeof value === 'object' && value !== null ? keptEncodings.get(value) : undefined;
        if (kept) return kept;
        const bytes = def.responseSerialize(value);
        if (kept !== null) return bytes;
        // Kept framed (@griot/transport): later answers send the same memory, with no copy per call.
        const framed = framedMessage(bytes);
        keptEncodings.set(value as object, framed);
        return framed;
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

/** The shutdown signal of calls bound without one: never aborted. */
const NEVER_ABORTED = new AbortController().signal;

/** What runCall uses of a grpc-js server call. */
interface ServerCallLike {
  metadata: Metadata;
  getPeer(): string;
  getDeadline(): Date | number;
  on(event: 'cancelled', l: () => void): unknown;
  sendMetadata(m: Metadata): void;
}

/**
 * The {@link CallContext} of one call. What a call may not need is made when
 * first asked for: the abort signal, the child logger, and the peer when no
 * end-of-call line will name it. Its methods live on the prototype rather
 * than in closures made per call.
 */
class ServerCallContext implements CallContext {
  readonly metadata: Metadata;
  readonly deadline?: Date;
  readonly shutdownSignal: AbortSignal;
  /** Why the call was aborted (cancelled, or its deadline passed) while its handler ran; undefined if it was not. */
  abortReason?: GriotError;
  /**
   * False once the handler is done: grpc-js reports the end of every call
   * as a cancellation, which only matters while the handler runs.
   */
  running = true;
  private controller?: AbortController;
  private childLogger?: Logger;
  private peerName?: string;

  constructor(
    readonly method: string,
    readonly requestId: string,
    private readonly call: ServerCallLike,
    private readonly rootLogger: Logger,
    shutdownSignal: AbortSignal | undefined,
    private readonly traced: ServerSpan | undefined,
    readPeerNow: boolean,
  ) {
    this.metadata = call.metadata;
    const deadline = call.getDeadline();
    this.deadline = deadline instanceof Date ? deadline : Number.isFinite(deadline) ? new Date(deadline) : undefined;
    this.shutdownSignal = shutdownSignal ?? NEVER_ABORTED;
    if (readPeerNow) this.peerName = safePeer(call);
  }

  get logger(): Logger {
    return (this.childLogger ??= this.rootLogger.child({ method: this.method, requestId: this.requestId }));
  }

  get peer(): string {
    return (this.peerName ??= safePeer(this.call));
  }

  get signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.abortReason) this.controller.abort(this.abortReason);
    }
    return this.controller.signal;
  }

  outgoingMetadata(): Metadata {
    const m = new Metadata();
    m.set(REQUEST_ID_KEY, this.requestId);
    if (this.traced) injectTraceContext(this.traced.context, m);
    return m;
  }

  /** Aborts the signal, unless the handler is done or it was aborted already. */
  abort(code: typeof Code.CANCELLED | typeof Code.DEADLINE_EXCEEDED): void {
    if (!this.running || this.abortReason) return;
    this.abortReason = code === Code.CANCELLED
      ? new GriotError(Code.CANCELLED, 'CANCELLED', 'the call was cancelled')
      : new GriotError(Code.DEADLINE_EXCEEDED, 'DEADLINE_EXCEEDED', 'the call deadline passed');
    this.controller?.abort(this.abortReason);
  }

  /** Sends the initial metadata: the request id. */
  sendHeaders(): void {
    const initial = new Metadata();
    initial.set(REQUEST_ID_KEY, this.requestId);
    try {
      this.call.sendMetadata(initial);
    } catch {
      // The call may already be over (cancelled before we started).
    }
  }
}

/**
 * Runs `fn` for one call and logs its end; returns the status to send. The
 * call is counted in `stats` (its messages are counted by the callers of
 * runCall, readRequests and send) and, with tracing on, runs in a server span.
 *
 * The initial metadata (the request id) goes out at the start of a streaming
 * call (`headers: 'at-start'`); a unary call sends it with its answer, as
 * grpc-js does with its own headers, which saves a write per call.
 */
async function runCall(
  def: MethodDef,
  call: ServerCallLike,
  options: BindOptions,
  stats: MethodMetrics | undefined,
  fn: (ctx: CallContext) => Promise<void>,
  headers: 'at-start' | 'with-answer' = 'at-start',
): Promise<StatusObject | undefined> {
  const started = process.hrtime.bigint();
  if (stats) stats.started += 1;
  const requestId = pickRequestId(call.metadata);
  const tracer = activeTracer();
  const traced = tracer ? startServerSpan(tracer, def.path, call.metadata, requestId) : undefined;
  const successLevel = options.successLevel ?? 'info';
  // Read the peer now when the end-of-call line will name it: a dropped connection has no peer by the end.
  const logsEnd = options.logger.isLevelEnabled('info') || options.logger.isLevelEnabled(successLevel);
  const ctx = new ServerCallContext(def.path, requestId, call, options.logger, options.shutdownSignal, traced, logsEnd);
  call.on('cancelled', () => ctx.abort(Code.CANCELLED));
  if (headers === 'at-start') ctx.sendHeaders();
  // grpc-js reports a passed deadline as a cancellation only once the stream has closed, which can
  // be after a handler committed a write; abort the signal at the deadline itself, as documented.
  const untilDeadline = ctx.deadline ? ctx.deadline.getTime() - Date.now() : Infinity;
  const deadlineTimer = untilDeadline < MAX_TIMER_MS ? setTimeout(() => ctx.abort(Code.DEADLINE_EXCEEDED), Math.max(0, untilDeadline)) : undefined;
  let status: StatusObject | undefined;
  try {
    const tooLarge = metadataProblem(call.metadata, options.maxMetadataBytes ?? DEFAULT_MAX_METADATA_BYTES);
    if (tooLarge) throw tooLarge;
    await (traced ? withContext(traced.context, () => fn(ctx)) : fn(ctx));
  } catch (err) {
    status = ctx.abortReason && !(err instanceof GriotError)
      ? { code: Code.CANCELLED, details: 'the call was cancelled', metadata: new Metadata() }
      : toGrpcStatus(err, { domain: options.domain, requestId });
    options.onError?.(err);
    if (status.code === Code.INTERNAL) ctx.logger.error({ err }, 'unexpected error');
    else if (status.code === Code.UNAVAILABLE) ctx.logger.warn({ err }, 'dependency unavailable');
  } finally {
    ctx.running = false;
    clearTimeout(deadlineTimer);
  }
  if (headers === 'with-answer') ctx.sendHeaders();
  const durationMs = Number(process.hrtime.bigint() - started) / 1e6;
  const code = status?.code ?? Code.OK;
  stats?.handledWith(code, durationMs / 1000);
  if (traced) endServerSpan(traced.span, code, status?.details);
  if (logsEnd) {
    const line = { peer: ctx.peer, code: codeName(code), durationMs: Math.round(durationMs * 1000) / 1000 };
    if (code !== Code.OK) ctx.logger.info({ ...line, reason: status?.details }, 'rpc');
    else if (options.logger.isLevelEnabled(successLevel)) ctx.logger[successLevel](line, 'rpc');
  }
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
      }, 'with-answer').then((status) => {
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
