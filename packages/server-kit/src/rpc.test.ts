/**
 * bindService through a real GriotServer: statuses and google.rpc details,
 * INTERNAL hiding its cause, UNIMPLEMENTED for missing handlers, request ids
 * taken or made up and echoed, one log line per call, and streaming.
 */
import { Writable } from 'node:stream';
import { credentials, Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { content } from '@griot/proto';
import pino from 'pino';
import { GriotError, invalidField } from './errors';
import { decodeStatusDetails } from '@griot/client';
import { keepEncoding, withKeptEncodings, type CallContext } from './rpc';
import { defineService, GriotServer } from './server';

const lines: Record<string, unknown>[] = [];
const logger = pino(
  { level: 'debug' },
  new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(JSON.parse(chunk.toString('utf8')) as Record<string, unknown>);
      done();
    },
  }),
);

let seen: CallContext | undefined;
/** The abort reason a handler waiting on its signal saw. */
let abortedWith: ((reason: unknown) => void) | undefined;
let server: GriotServer;
let client: content.ContentServiceClient;

beforeAll(async () => {
  server = new GriotServer({
    logger,
    domain: 'test.griot.dev',
    services: [
      defineService('griot.content.v1.ContentService', content.ContentServiceService, {
          async getBlob(request, ctx) {
            seen = ctx;
            if (request.sha256 === 'bad') throw invalidField('sha256', 'INVALID_DIGEST', 'is not 64 hexadecimal characters');
            if (request.sha256 === 'boom') throw new Error('password=hunter2 leaked in a driver message');
            if (request.sha256 === 'down') throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
            if (request.sha256 === 'wait') {
              await new Promise((resolve) => ctx.signal.addEventListener('abort', resolve, { once: true }));
              abortedWith?.(ctx.signal.reason);
              throw ctx.signal.reason;
            }
            if (request.sha256 === 'gone') throw new GriotError(status.NOT_FOUND, 'BLOB_NOT_FOUND', 'blob gone was not found', { metadata: { sha256: 'gone' } });
            return { blob: { sha256: request.sha256, size: 3, storageName: 'x', storageConfig: {}, createdAt: new Date(0) } };
          },
          async uploadBlob(requests) {
            let count = 0;
            for await (const _ of requests) count++;
            return { uploadId: '', committedSize: count, complete: true, deduplicated: false, blob: undefined };
          },
          async readContent(request, _ctx, send) {
            for (let i = 0; i < request.limit; i++) await send({ offset: i * 1024, data: Buffer.alloc(1024, i % 256), totalSize: 0 });
          },
      }),
    ],
    streamIdleMs: 300,
  });
  const port = await server.listen('127.0.0.1:0');
  client = new content.ContentServiceClient(`127.0.0.1:${port}`, credentials.createInsecure());
});

afterAll(async () => {
  client.close();
  await server.shutdown(1000);
});

function getBlob(sha256: string, metadata = new Metadata()): Promise<{ response?: content.GetBlobResponse; error?: ServiceError; headers: Metadata }> {
  return new Promise((resolve) => {
    let headers = new Metadata();
    const call = client.getBlob({ sha256, storageName: '' }, metadata, (error, response) => resolve({ error: error ?? undefined, response, headers }));
    call.on('metadata', (m) => (headers = m));
  });
}

it('answers with the handler response and echoes the caller request id', async () => {
  const metadata = new Metadata();
  metadata.set('x-request-id', 'req-123');
  const { response, headers } = await getBlob('ok', metadata);
  expect(response?.blob?.sha256).toBe('ok');
  expect(seen?.requestId).toBe('req-123');
  expect(seen?.outgoingMetadata().get('x-request-id')).toEqual(['req-123']);
  expect(headers.get('x-request-id')).toEqual(['req-123']);
});

it('makes up a request id when the caller sends none', async () => {
  const { headers } = await getBlob('ok');
  expect(String(headers.get('x-request-id')[0])).toMatch(/^[0-9a-f-]{36}$/);
});

it('sends INVALID_ARGUMENT with ErrorInfo and BadRequest details', async () => {
  const { error } = await getBlob('bad');
  expect(error?.code).toBe(status.INVALID_ARGUMENT);
  expect(error?.details).toBe('sha256: is not 64 hexadecimal characters');
  const details = decodeStatusDetails(error!.metadata);
  expect(details).toMatchObject({ reason: 'INVALID_DIGEST', domain: 'test.griot.dev' });
  expect(details.violations).toEqual([{ field: 'sha256', description: 'is not 64 hexadecimal characters' }]);
});

it('keeps a domain error code and its metadata', async () => {
  const { error } = await getBlob('gone');
  expect(error?.code).toBe(status.NOT_FOUND);
  expect(decodeStatusDetails(error!.metadata).metadata).toEqual({ sha256: 'gone' });
});

it('turns an unknown error into INTERNAL without its cause, and logs the cause', async () => {
  lines.length = 0;
  const metadata = new Metadata();
  metadata.set('x-request-id', 'req-boom');
  const { error } = await getBlob('boom', metadata);
  expect(error?.code).toBe(status.INTERNAL);
  expect(error?.details).toBe('internal error (request id req-boom)');
  expect(JSON.stringify(error?.metadata.getMap())).not.toContain('hunter2');
  const logged = lines.find((l) => l.msg === 'unexpected error');
  expect(JSON.stringify(logged)).toContain('hunter2');
  expect(logged).toMatchObject({ requestId: 'req-boom' });
});

it('turns an unreachable database into UNAVAILABLE', async () => {
  const { error } = await getBlob('down');
  expect(error?.code).toBe(status.UNAVAILABLE);
  expect(error?.details).toMatch(/database is unavailable/);
});

it('answers UNIMPLEMENTED for a method with no handler', async () => {
  const error = await new Promise<ServiceError | null>((resolve) => client.getManifest({ id: 'x' }, (err) => resolve(err)));
  expect(error?.code).toBe(status.UNIMPLEMENTED);
  expect(error?.details).toBe('/griot.content.v1.ContentService/GetManifest is not implemented yet');
});

it('logs one line at the end of each call with method, code, duration, peer and request id', async () => {
  lines.length = 0;
  const metadata = new Metadata();
  metadata.set('x-request-id', 'req-log');
  await getBlob('bad', metadata);
  const rpcLines = lines.filter((l) => l.msg === 'rpc');
  expect(rpcLines).toHaveLength(1);
  expect(rpcLines[0]).toMatchObject({
    method: '/griot.content.v1.ContentService/GetBlob',
    requestId: 'req-log',
    code: 'INVALID_ARGUMENT',
    peer: expect.stringMatching(/127\.0\.0\.1/),
  });
  expect(typeof rpcLines[0]!.durationMs).toBe('number');
});

it('streams every message of a server stream in order', async () => {
  const call = client.readContent({ target: undefined, offset: 0, limit: 2000 });
  let count = 0;
  let ordered = true;
  for await (const message of call as AsyncIterable<content.ReadContentResponse>) {
    if (message.offset !== count * 1024) ordered = false;
    count++;
  }
  expect(count).toBe(2000);
  expect(ordered).toBe(true);
});

it('answers INVALID_ARGUMENT, not INTERNAL, to bytes that are not a valid message', async () => {
  const error = await new Promise<ServiceError | null>((resolve) =>
    client.makeUnaryRequest(
      '/griot.content.v1.ContentService/GetBlob',
      (b: Buffer) => b,
      (b: Buffer) => b,
      Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f]),
      (err) => resolve(err),
    ),
  );
  expect(error?.code).toBe(status.INVALID_ARGUMENT);
  expect(error?.details).toBe('the request is not a valid GetBlobRequest message');
  expect(decodeStatusDetails(error!.metadata).reason).toBe('MALFORMED_REQUEST');
});

it('ends a client stream that goes silent with DEADLINE_EXCEEDED', async () => {
  const started = Date.now();
  const error = await new Promise<ServiceError | null>((resolve) => {
    const call = client.uploadBlob((err) => resolve(err));
    call.write({ start: undefined, offset: 0, data: Buffer.alloc(1), finishWrite: false });
    // ...and nothing more, without ending the stream.
  });
  expect(error?.code).toBe(status.DEADLINE_EXCEEDED);
  expect(decodeStatusDetails(error!.metadata).reason).toBe('STREAM_IDLE');
  expect(Date.now() - started).toBeGreaterThanOrEqual(250);
});

it('counts every message of a client stream that ends normally', async () => {
  const response = await new Promise<content.UploadBlobResponse>((resolve, reject) => {
    const call = client.uploadBlob((err, res) => (err ? reject(err) : resolve(res!)));
    for (let i = 0; i < 50; i++) call.write({ start: undefined, offset: i, data: Buffer.alloc(10), finishWrite: false });
    call.end();
  });
  expect(response.committedSize).toBe(50);
});

it("aborts a unary handler's signal when its deadline passes, and when the caller cancels", async () => {
  const deadlineReason = new Promise((resolve) => (abortedWith = resolve));
  const late = await new Promise<ServiceError | null>((resolve) => {
    client.getBlob({ sha256: 'wait', storageName: '' }, new Metadata(), { deadline: Date.now() + 200 }, (err) => resolve(err));
  });
  expect(late?.code).toBe(status.DEADLINE_EXCEEDED);
  // grpc-js ends the call at the same deadline, and that end is reported as a cancellation: either may come first.
  expect([status.DEADLINE_EXCEEDED, status.CANCELLED]).toContain((await deadlineReason as { code: number }).code);

  const cancelReason = new Promise((resolve) => (abortedWith = resolve));
  const call = client.getBlob({ sha256: 'wait', storageName: '' }, () => undefined);
  // Cancel once the handler runs (its headers are sent with its answer, so wait for the server to see the call).
  await eventuallySeen();
  call.cancel();
  expect(await cancelReason).toMatchObject({ code: status.CANCELLED, reason: 'CANCELLED' });
  abortedWith = undefined;
});

/** Resolves once the server has started a call of the 'wait' handler. */
async function eventuallySeen(): Promise<void> {
  const before = seen;
  while (seen === before || seen === undefined) await new Promise((resolve) => setImmediate(resolve));
}

describe('withKeptEncodings', () => {
  const definition = {
    get: {
      path: '/test.Kept/Get',
      requestStream: false,
      responseStream: false,
      requestSerialize: (v: unknown) => Buffer.from(JSON.stringify(v)),
      requestDeserialize: (b: Buffer) => JSON.parse(b.toString()) as unknown,
      responseSerialize: (v: { n: number }) => Buffer.from(String(v.n)),
      responseDeserialize: (b: Buffer) => ({ n: Number(b.toString()) }),
    },
  };

  it('encodes a kept message once and sends the same bytes after, and encodes any other message every time', () => {
    const serialize = withKeptEncodings(definition).get.responseSerialize;
    const kept = keepEncoding({ n: 1 });
    const first = serialize(kept);
    kept.n = 2; // never done to a kept message: here it shows that the bytes were not made again
    expect(serialize(kept)).toBe(first);
    expect(String(serialize(kept))).toBe('1');
    const plain = { n: 1 };
    expect(String(serialize(plain))).toBe('1');
    plain.n = 2;
    expect(String(serialize(plain))).toBe('2');
  });
});
