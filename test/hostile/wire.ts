/**
 * How the hostile corpus reaches a service: raw request bytes through a
 * grpc-js client that does no encoding of its own (so that bytes no encoder
 * would write get sent as they are), raw HTTP/2 streams for what grpc-js
 * clients cannot send (a message cut mid-way, a declared length past the
 * end), and a hand encoder for google.protobuf.Struct values nested deeper
 * than the generated encoder's recursion allows.
 */
import { connect as http2Connect, constants as h2 } from 'node:http2';
import { Client, credentials, Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { decodeStatusDetails } from '@griot/client';

/** What a call ended with. */
export interface Outcome {
  /** The gRPC status code. */
  code: status;
  /** The status message. */
  message: string;
  /** The ErrorInfo reason, when the service sent one. */
  reason?: string;
  /** The response messages (raw bytes), for OK answers. */
  responses: Buffer[];
}

const identity = (b: Buffer) => b;

/** A client that sends and receives raw message bytes. */
export class RawClient {
  private readonly client: Client;

  constructor(address: string) {
    this.client = new Client(address, credentials.createInsecure(), {
      'grpc.max_receive_message_length': 64 * 1024 * 1024,
      'grpc.max_send_message_length': 64 * 1024 * 1024,
    });
  }

  /** Closes the channel. */
  close(): void {
    this.client.close();
  }

  /** A unary call. */
  unary(path: string, body: Buffer, metadata: Metadata, deadline?: Date): Promise<Outcome> {
    return new Promise((resolve) => {
      this.client.makeUnaryRequest(path, identity, identity, body, metadata, { deadline }, (err, res) =>
        resolve(err ? fromError(err) : ok(res ? [res] : [])),
      );
    });
  }

  /** A server-streaming call: collects every response until the end. */
  serverStream(path: string, body: Buffer, metadata: Metadata, deadline?: Date): Promise<Outcome> {
    return new Promise((resolve) => {
      const responses: Buffer[] = [];
      const call = this.client.makeServerStreamRequest(path, identity, identity, body, metadata, { deadline });
      call.on('data', (b: Buffer) => responses.push(b));
      call.on('error', (err: ServiceError) => resolve(fromError(err)));
      call.on('status', (s: { code: status }) => {
        if (s.code === status.OK) resolve(ok(responses));
      });
    });
  }

  /**
   * A client-streaming call played from a script: `send` writes a message,
   * `waitMs` pauses, `end` half-closes, `cancel` cancels; with neither `end`
   * nor `cancel`, the stream stays open (a silent client).
   */
  clientStream(path: string, steps: StreamStep[], metadata: Metadata, deadline?: Date): Promise<Outcome> {
    return new Promise((resolve) => {
      const call = this.client.makeClientStreamRequest(path, identity, identity, metadata, { deadline }, (err, res) =>
        resolve(err ? fromError(err) : ok(res ? [res] : [])),
      );
      void (async () => {
        for (const step of steps) {
          if ('bytes' in step) call.write(step.bytes);
          else if ('waitMs' in step) await new Promise((r) => setTimeout(r, step.waitMs));
          else if ('end' in step) call.end();
          else if ('cancel' in step) call.cancel();
        }
      })();
    });
  }
}

/** One step of a client-stream script, with its message already encoded. */
export type StreamStep = { bytes: Buffer } | { waitMs: number } | { end: true } | { cancel: true };

function ok(responses: Buffer[]): Outcome {
  return { code: status.OK, message: '', responses };
}

function fromError(err: ServiceError): Outcome {
  let reason: string | undefined;
  try {
    reason = decodeStatusDetails(err.metadata).reason;
  } catch {
    reason = 'UNDECODABLE_DETAILS';
  }
  return { code: err.code, message: err.details, reason, responses: [] };
}

/**
 * One raw HTTP/2 gRPC request: the given headers, then the body bytes as
 * they are (gRPC framing included, or not), then the end of the stream
 * unless `keepOpen`. Resolves with the grpc-status of the trailers (or of
 * trailers-only headers); a stream reset without a status is UNAVAILABLE
 * (`message` names the reset code), as grpc-js clients report it.
 */
export function rawHttp2(
  address: string,
  path: string,
  body: Buffer,
  options: { headers?: Record<string, string>; keepOpen?: boolean; timeoutMs?: number } = {},
): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const session = http2Connect(`http://${address}`);
    const timer = setTimeout(() => {
      session.destroy();
      reject(new Error(`no answer to the raw HTTP/2 request on ${path} within ${options.timeoutMs ?? 10_000} ms`));
    }, options.timeoutMs ?? 10_000);
    let settled = false;
    const done = (o: Outcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      session.close();
      resolve(o);
    };
    session.on('error', (err) => done({ code: status.UNAVAILABLE, message: `session error: ${err.message}`, responses: [] }));
    const stream = session.request({
      [h2.HTTP2_HEADER_METHOD]: 'POST',
      [h2.HTTP2_HEADER_PATH]: path,
      [h2.HTTP2_HEADER_SCHEME]: 'http',
      'content-type': 'application/grpc',
      te: 'trailers',
      ...options.headers,
    });
    const read = (headers: Record<string, unknown>): Outcome | undefined => {
      const code = headers['grpc-status'];
      if (code === undefined) return undefined;
      const details = headers['grpc-status-details-bin'];
      let reason: string | undefined;
      if (typeof details === 'string') {
        const metadata = new Metadata();
        metadata.set('grpc-status-details-bin', Buffer.from(details, 'base64'));
        reason = decodeStatusDetails(metadata).reason;
      }
      return { code: Number(code), message: decodeURIComponent(String(headers['grpc-message'] ?? '')), reason, responses: [] };
    };
    stream.on('response', (headers) => {
      const o = read(headers);
      if (o) done(o);
    });
    stream.on('trailers', (trailers) => {
      const o = read(trailers);
      if (o) done(o);
    });
    stream.on('data', () => undefined);
    stream.on('close', () => done({ code: status.UNAVAILABLE, message: `stream closed without a status (RST_STREAM ${stream.rstCode})`, responses: [] }));
    stream.on('error', () => undefined);
    stream.write(body);
    if (!options.keepOpen) stream.end();
  });
}

/** The gRPC framing of one message: flag 0, big-endian length, the bytes. */
export function frame(message: Buffer): Buffer {
  const prefix = Buffer.alloc(5);
  prefix.writeUInt32BE(message.length, 1);
  return Buffer.concat([prefix, message]);
}

/** A protobuf varint. */
export function varint(value: number): Buffer {
  const out: number[] = [];
  let v = value;
  while (v >= 0x80) {
    out.push((v % 0x80) | 0x80);
    v = Math.floor(v / 0x80);
  }
  out.push(v);
  return Buffer.from(out);
}

/** A length-delimited field. */
export function lenField(fieldNumber: number, bytes: Buffer): Buffer {
  return Buffer.concat([varint(fieldNumber * 8 + 2), varint(bytes.length), bytes]);
}

/**
 * The bytes of a google.protobuf.Struct nested `depth` objects deep,
 * `{"d": {"d": ... {"leaf": true}}}`, built from the inside out without
 * recursion.
 */
export function deepStruct(depth: number): Buffer {
  // Value{bool_value: true} is field 4, varint 1.
  let struct = lenField(1, Buffer.concat([lenField(1, Buffer.from('leaf')), lenField(2, Buffer.from([0x20, 0x01]))]));
  for (let i = 1; i < depth; i++) {
    // Struct{fields: {"d": Value{struct_value: struct}}}; struct_value is field 5 of Value.
    struct = lenField(1, Buffer.concat([lenField(1, Buffer.from('d')), lenField(2, lenField(5, struct))]));
  }
  return struct;
}

/** `{"d": ... {"leaf": true}}` as a plain object, `depth` objects deep (for the domain's own checks). */
export function deepObject(depth: number): Record<string, unknown> {
  let value: Record<string, unknown> = { leaf: true };
  for (let i = 1; i < depth; i++) value = { d: value };
  return value;
}
