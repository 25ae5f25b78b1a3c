/**
 * What framedMessage relies on: grpc-js server calls frame their responses
 * in `BaseServerInterceptingCall.prototype.serializeMessage`. A grpc-js
 * upgrade that changes that fails here.
 */
import { credentials, makeGenericClientConstructor, Server, ServerCredentials, type ServerWritableStream } from '@grpc/grpc-js';
import { BaseServerInterceptingCall } from '@grpc/grpc-js/build/src/server-interceptors';
import { registry } from '@griot/proto';
import { framedMessage, installFramedResponses } from './framed-responses';

const watch = registry.RegistryServiceService.watchInstallation;

function encode(message: registry.WatchInstallationResponse): Buffer {
  return Buffer.from(registry.WatchInstallationResponse.encode(message).finish());
}

it('frames a framedMessage once: grpc-js sends the same memory, header included, on every call', () => {
  installFramedResponses();
  const payload = framedMessage(encode({ firstLine: 7, lines: ['a', 'b'], status: 2, statusMessage: '' }));
  const serializeMessage = (BaseServerInterceptingCall.prototype as unknown as { serializeMessage(this: unknown, value: unknown): Buffer }).serializeMessage;
  const call = { handler: { serialize: () => payload } };
  const first = serializeMessage.call(call, {});
  const second = serializeMessage.call(call, {});
  for (const sent of [first, second]) {
    expect(sent.buffer).toBe(payload.buffer);
    expect(sent.byteOffset).toBe(payload.byteOffset - 5);
    expect(sent[0]).toBe(0);
    expect(sent.readUInt32BE(1)).toBe(payload.length);
    expect(sent.subarray(5).equals(payload)).toBe(true);
  }
  // Anything else is framed in a buffer of its own, as grpc-js does.
  const other = encode({ firstLine: 1, lines: [], status: 3, statusMessage: 'done' });
  const framedOther = serializeMessage.call({ handler: { serialize: () => other } }, {});
  const before = Buffer.from(other);
  expect(framedOther.readUInt32BE(1)).toBe(other.length);
  expect(framedOther.subarray(5).equals(other)).toBe(true);
  other.fill(0xff);
  expect(framedOther.subarray(5).equals(before)).toBe(true);
});

it('sends one framed message to several real calls, and ordinary messages beside it', async () => {
  const shared = { firstLine: 0, lines: ['one', 'two', 'three'], status: 2, statusMessage: '' } as registry.WatchInstallationResponse;
  const encoded = new WeakMap<object, Buffer>();
  const definition = {
    watchInstallation: {
      ...watch,
      responseSerialize(value: registry.WatchInstallationResponse): Buffer {
        // Shared messages are framed once; the rest go the ordinary way.
        if (value !== shared) return encode(value);
        let bytes = encoded.get(value);
        if (!bytes) encoded.set(value, (bytes = framedMessage(encode(value))));
        return bytes;
      },
    },
  };
  const server = new Server();
  server.addService(definition, {
    watchInstallation(call: ServerWritableStream<registry.WatchInstallationRequest, registry.WatchInstallationResponse>) {
      call.write(shared);
      call.write({ firstLine: 3, lines: [call.request.jobId], status: 3, statusMessage: 'done' });
      call.write(shared);
      call.end();
    },
  });
  const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))));
  const Client = makeGenericClientConstructor(definition, 'Probe');
  const client = new Client(`127.0.0.1:${port}`, credentials.createInsecure()) as unknown as {
    watchInstallation(request: registry.WatchInstallationRequest): NodeJS.ReadableStream;
    close(): void;
  };
  try {
    const follow = async (jobId: string) => {
      const got: registry.WatchInstallationResponse[] = [];
      for await (const message of client.watchInstallation({ jobId, fromLine: 0 })) got.push(message as unknown as registry.WatchInstallationResponse);
      return got;
    };
    const [a, b] = await Promise.all([follow('job-a'), follow('job-b')]);
    for (const [got, jobId] of [[a, 'job-a'], [b, 'job-b']] as const) {
      expect(got).toEqual([shared, { firstLine: 3, lines: [jobId], status: 3, statusMessage: 'done' }, shared]);
    }
  } finally {
    client.close();
    server.forceShutdown();
  }
});
