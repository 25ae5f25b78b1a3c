/**
 * A client for the one call that carries bulk bytes to the content store,
 * `ContentService/UploadBlob`, speaking gRPC over Node's HTTP/2 directly.
 *
 * grpc-js copies every request message twice before it reaches the socket
 * (the serializer's output, then again behind the 5-byte frame header), each
 * time into fresh memory, and that memory is what its garbage collector then
 * chases: with 1 MiB chunks, about 2 CPU-seconds per GiB in the client, on
 * the same cores the store needs. Here each message goes out as two writes,
 * a few bytes of frame header and small fields, then the chunk itself, from
 * the caller's buffer: no copy at all.
 *
 * It is a gRPC client like any other on the wire (the same headers, the
 * `grpc-timeout` deadline, metadata, status, message and details from the
 * trailers) and answers with grpc-js's own `ServiceError`, so errors are
 * handled the same way as those of the generated clients. It opens one HTTP/2
 * connection per client, plaintext or TLS (mutual TLS with a client
 * certificate), and reuses it for every call. With OpenTelemetry set up in
 * the process, the active trace context goes along as W3C `traceparent`
 * (unless the metadata carries one already); without it, nothing is added.
 */
import { EventEmitter } from 'node:events';
import { connect, constants as h2, type ClientHttp2Session, type ClientHttp2Stream, type IncomingHttpHeaders } from 'node:http2';
import { Metadata, status as Status, type ServiceError } from '@grpc/grpc-js';
import { context, propagation } from '@opentelemetry/api';
import { encodeUploadBlobRequestHead } from './content-codecs';
import { content } from '@griot/proto';

const PATH = '/griot.content.v1.ContentService/UploadBlob';
/** The largest response message accepted (an UploadBlobResponse is a few hundred bytes). */
const MAX_RESPONSE_BYTES = 4 * 1024 * 1024;

/** TLS for an {@link UploadBlobClient}, as grpc-js's `credentials.createSsl` takes it. */
export interface UploadBlobClientTls {
  /** PEM CA certificates to trust; Node's default CAs when absent. */
  ca?: Buffer | null;
  /** PEM client certificate, for mutual TLS (with `key`). */
  cert?: Buffer | null;
  /** PEM private key of `cert`. */
  key?: Buffer | null;
}

/** Options of an {@link UploadBlobClient}. */
export interface UploadBlobClientOptions {
  /** Connect with TLS; plaintext when absent. */
  tls?: UploadBlobClientTls;
}

/** Options of one call. */
export interface UploadBlobCallOptions {
  /** When the call fails with DEADLINE_EXCEEDED; also sent to the server as `grpc-timeout`. */
  deadline?: Date;
}

/** The callback of a call: exactly one of an error or the response. */
export type UploadBlobCallback = (err: ServiceError | null, response?: content.UploadBlobResponse) => void;

/**
 * One UploadBlob call: write messages, then `end()`; the callback given to
 * {@link UploadBlobClient.uploadBlob} receives the outcome. Emits `drain`
 * when a `write` that answered false may be followed by more, and also when
 * the call ends while a writer waits for it.
 */
export class UploadBlobCall extends EventEmitter {
  private ended = false;
  private finished = false;
  private waitingForDrain = false;
  private statusCode: number | undefined;
  private statusDetails = '';
  private trailers: Metadata | undefined;
  private readonly received: Buffer[] = [];
  private receivedBytes = 0;
  private localStatus: { code: number; details: string } | undefined;
  private timer: NodeJS.Timeout | undefined;
  private streamError: Error | undefined;

  /** @internal */
  constructor(
    private readonly stream: ClientHttp2Stream,
    private readonly callback: UploadBlobCallback,
    deadline: Date | undefined,
    private readonly sessionError: () => Error | undefined,
    private readonly done: () => void,
  ) {
    super();
    stream.on('response', (headers) => this.onHeaders(headers));
    stream.on('data', (chunk: Buffer) => this.onData(chunk));
    stream.on('trailers', (headers) => this.onStatus(headers));
    stream.on('drain', () => this.drained());
    // A stream error ends in 'close', which decides the outcome.
    stream.on('error', (err: Error) => (this.streamError ??= err));
    // The server's answer is whole at 'end' (its status came before), even while this side still sends.
    stream.on('end', () => this.finish());
    // Without 'end', the stream was reset or the connection lost; the connection's error may come just after.
    stream.on('close', () => setImmediate(() => this.finish()));
    if (deadline) {
      const ms = deadline.getTime() - Date.now();
      this.timer = setTimeout(() => this.abort(Status.DEADLINE_EXCEEDED, 'Deadline exceeded'), Math.max(0, ms));
    }
  }

  /**
   * Sends one message. `data` is sent from the caller's memory, not copied:
   * it must not change until `callback` runs. Answers false when the caller
   * should wait for `drain` before writing more. Once the call has its
   * outcome (say, the store already held the blob), writes are dropped.
   */
  write(message: content.UploadBlobRequest, callback?: (err?: Error | null) => void): boolean {
    if (this.ended) throw new Error('write after end');
    if (this.finished || this.localStatus) {
      if (callback) queueMicrotask(() => callback());
      return true;
    }
    const data = message.data;
    const fields = encodeUploadBlobRequestHead(message);
    const frame = Buffer.allocUnsafe(5 + fields.length);
    frame[0] = 0; // not compressed
    frame.writeUInt32BE(fields.length + data.length, 1);
    frame.set(fields, 5);
    let more: boolean;
    if (data.length === 0) {
      more = this.stream.write(frame, callback);
    } else {
      this.stream.write(frame);
      more = this.stream.write(data, callback);
    }
    if (!more) this.waitingForDrain = true;
    return more;
  }

  /** No more messages: the server answers once it has read them. */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    if (!this.finished && !this.localStatus) this.stream.end();
  }

  /** Abandons the call; the callback gets CANCELLED. */
  cancel(): void {
    this.abort(Status.CANCELLED, 'Cancelled on client');
  }

  private abort(code: number, details: string): void {
    if (this.finished || this.localStatus) return;
    this.localStatus = { code, details };
    this.stream.close(h2.NGHTTP2_CANCEL);
  }

  private onHeaders(headers: IncomingHttpHeaders): void {
    const httpStatus = Number(headers[':status']);
    const type = String(headers['content-type'] ?? '');
    if (httpStatus !== 200 || !type.startsWith('application/grpc')) {
      // Not a gRPC answer (a proxy, or not a gRPC server): the HTTP status says what happened.
      if (headers['grpc-status'] === undefined) {
        this.localStatus ??= { code: statusOfHttp(httpStatus), details: `the server answered HTTP ${httpStatus}${type ? ` (${type})` : ''}, not gRPC` };
        this.stream.close(h2.NGHTTP2_CANCEL);
        return;
      }
    }
    // A trailers-only answer carries the status in its headers.
    if (headers['grpc-status'] !== undefined) this.onStatus(headers);
  }

  private onData(chunk: Buffer): void {
    this.receivedBytes += chunk.length;
    if (this.receivedBytes > MAX_RESPONSE_BYTES + 5) {
      this.abort(Status.RESOURCE_EXHAUSTED, `the response is larger than ${MAX_RESPONSE_BYTES} bytes`);
      return;
    }
    this.received.push(chunk);
  }

  private onStatus(headers: IncomingHttpHeaders): void {
    this.statusCode = Number(headers['grpc-status']);
    this.statusDetails = decodeMessage(String(headers['grpc-message'] ?? ''));
    const metadata = Metadata.fromHttp2Headers(headers);
    metadata.remove('grpc-status');
    metadata.remove('grpc-message');
    this.trailers = metadata;
  }

  private drained(): void {
    this.waitingForDrain = false;
    this.emit('drain');
  }

  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    clearTimeout(this.timer);
    this.done();
    // Nothing more is sent once the server has answered.
    if (!this.stream.closed) this.stream.close(h2.NGHTTP2_NO_ERROR);
    const outcome = this.outcome();
    if (this.waitingForDrain) this.drained();
    if ('error' in outcome) this.callback(outcome.error);
    else this.callback(null, outcome.response);
  }

  private outcome(): { error: ServiceError } | { response: content.UploadBlobResponse } {
    const metadata = this.trailers ?? new Metadata();
    if (this.localStatus) return { error: serviceError(this.localStatus.code, this.localStatus.details, metadata) };
    if (this.statusCode === undefined) {
      const cause = connectionCause(this.streamError) ?? this.sessionError();
      if (cause) return { error: serviceError(Status.UNAVAILABLE, cause.message, metadata) };
      const rst = this.stream.rstCode;
      if (rst === undefined) return { error: serviceError(Status.INTERNAL, 'the server ended the stream without a gRPC status', metadata) };
      return { error: serviceError(statusOfReset(rst), `the stream was reset with HTTP/2 code ${rst} and no gRPC status`, metadata) };
    }
    if (this.statusCode !== Status.OK) return { error: serviceError(this.statusCode, this.statusDetails, metadata) };
    const body = Buffer.concat(this.received, this.receivedBytes);
    if (body.length < 5 || body[0] !== 0 || body.readUInt32BE(1) !== body.length - 5) {
      const why = body.length === 0 ? 'no response message' : body[0] !== 0 ? 'a compressed response, which it did not ask for' : 'a malformed response frame';
      return { error: serviceError(Status.INTERNAL, `the server sent ${why}`, metadata) };
    }
    try {
      return { response: content.UploadBlobResponse.decode(body.subarray(5)) };
    } catch (err) {
      return { error: serviceError(Status.INTERNAL, `the response could not be decoded: ${(err as Error).message}`, metadata) };
    }
  }
}

/**
 * UploadBlob over one HTTP/2 connection, without copying chunk bytes.
 * Connects on the first call and again after the connection is lost; the
 * connection keeps the process alive only while a call runs.
 */
export class UploadBlobClient {
  private session: ClientHttp2Session | undefined;
  /** Why a connection failed, for the calls it ends. */
  private readonly failures = new WeakMap<ClientHttp2Session, Error>();
  private active = 0;
  private closed = false;

  /**
   * @param address - `host:port` of the content store.
   * @param options - TLS; plaintext when absent.
   */
  constructor(
    readonly address: string,
    private readonly options: UploadBlobClientOptions = {},
  ) {}

  /**
   * Starts an UploadBlob call.
   *
   * @param metadata - Request metadata (such as `authorization`).
   * @param options - The deadline.
   * @param callback - Receives the response, or a grpc-js `ServiceError`.
   */
  uploadBlob(metadata: Metadata | undefined, options: UploadBlobCallOptions | undefined, callback: UploadBlobCallback): UploadBlobCall {
    if (this.closed) throw new Error('the UploadBlobClient is closed');
    const session = this.connected();
    const headers: Record<string, string | string[]> = {
      ...(metadata?.toHttp2Headers() as Record<string, string | string[]> | undefined),
      [h2.HTTP2_HEADER_METHOD]: 'POST',
      [h2.HTTP2_HEADER_PATH]: PATH,
      'content-type': 'application/grpc',
      te: 'trailers',
      'grpc-accept-encoding': 'identity',
      'user-agent': 'griot-upload-blob-client',
    };
    if (headers.traceparent === undefined) propagation.inject(context.active(), headers);
    if (options?.deadline) headers['grpc-timeout'] = grpcTimeout(options.deadline.getTime() - Date.now());
    const stream = session.request(headers, { endStream: false });
    this.active += 1;
    session.ref();
    return new UploadBlobCall(stream, callback, options?.deadline, () => this.failures.get(session), () => {
      this.active -= 1;
      if (this.active === 0 && !session.destroyed) session.unref();
    });
  }

  /** Closes the connection once running calls end; later calls fail. */
  close(): void {
    this.closed = true;
    this.session?.close();
  }

  private connected(): ClientHttp2Session {
    const current = this.session;
    if (current && !current.closed && !current.destroyed) return current;
    const tls = this.options.tls;
    const session = tls
      ? connect(`https://${this.address}`, { ca: tls.ca ?? undefined, cert: tls.cert ?? undefined, key: tls.key ?? undefined })
      : connect(`http://${this.address}`);
    this.session = session;
    const forget = () => {
      if (this.session === session) this.session = undefined;
    };
    session.on('error', (err: Error) => {
      this.failures.set(session, err);
      forget();
    });
    // A server going away takes new calls elsewhere: the next call connects again.
    session.on('goaway', forget);
    session.on('close', forget);
    session.unref();
    return session;
  }
}

/** grpc-js's ServiceError: `code`, `details`, `metadata`, and the message it would give. */
function serviceError(code: number, details: string, metadata: Metadata): ServiceError {
  const name = (Status[code] as string | undefined) ?? String(code);
  return Object.assign(new Error(`${code} ${name}: ${details}`), { code, details, metadata });
}

/** The network or TLS error behind a stream error, if that is what ended it. */
function connectionCause(err: Error | undefined): Error | undefined {
  if (!err) return undefined;
  if (err.cause instanceof Error) return err.cause;
  const code = (err as NodeJS.ErrnoException).code;
  return typeof code === 'string' && !code.startsWith('ERR_HTTP2_') ? err : undefined;
}

/** `grpc-message` is percent-encoded. */
function decodeMessage(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

/** A `grpc-timeout` value: at most 8 digits, in the finest unit that fits. */
function grpcTimeout(ms: number): string {
  const n = Math.max(0, Math.ceil(ms));
  if (n < 1e8) return `${n}m`;
  if (n / 1000 < 1e8) return `${Math.ceil(n / 1000)}S`;
  return `${Math.min(99_999_999, Math.ceil(n / 3_600_000))}H`;
}

/** The gRPC status of an HTTP status that is not a gRPC answer (as the gRPC HTTP/2 spec maps them). */
function statusOfHttp(httpStatus: number): number {
  switch (httpStatus) {
    case 400:
      return Status.INTERNAL;
    case 401:
      return Status.UNAUTHENTICATED;
    case 403:
      return Status.PERMISSION_DENIED;
    case 404:
      return Status.UNIMPLEMENTED;
    case 429:
    case 502:
    case 503:
    case 504:
      return Status.UNAVAILABLE;
    default:
      return Status.UNKNOWN;
  }
}

/** The gRPC status of a stream reset without a status (as grpc-js maps them). */
function statusOfReset(code: number | undefined): number {
  switch (code) {
    case h2.NGHTTP2_REFUSED_STREAM:
      return Status.UNAVAILABLE;
    case h2.NGHTTP2_CANCEL:
      return Status.CANCELLED;
    case h2.NGHTTP2_ENHANCE_YOUR_CALM:
      return Status.RESOURCE_EXHAUSTED;
    case h2.NGHTTP2_INADEQUATE_SECURITY:
      return Status.PERMISSION_DENIED;
    default:
      return Status.INTERNAL;
  }
}
