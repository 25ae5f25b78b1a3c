import { randomBytes } from 'node:crypto';
import { credentials, Server, ServerCredentials, type sendUnaryData, type ServerReadableStream } from '@grpc/grpc-js';
import { content } from '@griot/proto';
import { ContentServiceClient, contentServiceServerDefinition, decodeUploadBlobRequest, encodeUploadBlobRequest } from './content-codecs';
import { canPlaceMessages, PlacingDecoder, requestDeframer, type RequestBuffers } from './request-deframer';

const HEADROOM = 4096;
const generated = (m: content.UploadBlobRequest) => Buffer.from(content.UploadBlobRequest.encode(m).finish());

/** A gRPC frame: the compressed flag, the length, the message. */
function frame(message: Buffer, compressed = 0): Buffer {
  const header = Buffer.alloc(5);
  header[0] = compressed;
  header.writeUInt32BE(message.length, 1);
  return Buffer.concat([header, message]);
}

/** Buffers that remember what they lent. */
function recordingBuffers(overrides: Partial<RequestBuffers> = {}): RequestBuffers & { lent: Set<ArrayBufferLike> } {
  const lent = new Set<ArrayBufferLike>();
  return {
    path: content.ContentServiceService.uploadBlob.path,
    dataField: 3,
    headroom: HEADROOM,
    minBytes: 1024,
    allocate(size) {
      const buffer = Buffer.allocUnsafeSlow(size);
      lent.add(buffer.buffer);
      return buffer;
    },
    lent,
    ...overrides,
  };
}

describe('PlacingDecoder', () => {
  const placed = { start: { uploadId: 'u', storageName: 'griot.file@v1', sha256: 'a'.repeat(64), size: 5 }, offset: 0, data: randomBytes(70_000), finishWrite: false };
  const messages: [string, Buffer, boolean][] = [
    ['a first chunk, data last', encodeUploadBlobRequest(placed), true],
    ['a chunk as the generated encoder writes it (finish_write after data)', generated({ start: undefined, offset: 2 ** 40, data: randomBytes(50_000), finishWrite: true }), true],
    ['a small chunk', generated({ start: undefined, offset: 9, data: randomBytes(10), finishWrite: false }), false],
    ['an empty message', Buffer.alloc(0), false],
    ['a large message without data', generated({ start: { uploadId: 'x'.repeat(5000), storageName: '', sha256: '', size: undefined }, offset: 1, data: Buffer.alloc(0), finishWrite: false }), false],
    ['data after more than the headroom of other fields', generated({ start: { uploadId: '', storageName: 's'.repeat(5000), sha256: '', size: undefined }, offset: 1, data: randomBytes(3000), finishWrite: false }), false],
  ];

  it.each([1, 7, 4096, 16_384, 65_536, 1 << 20])('answers each message unchanged, in reads of %d bytes, bulk bytes at the headroom of a lent buffer', (readBytes) => {
    const buffers = recordingBuffers();
    const decoder = new PlacingDecoder(1 << 20, buffers);
    const wire = Buffer.concat([...messages.map(([, m]) => frame(m)), frame(Buffer.from('zzzz'), 1)]);
    const out: Buffer[] = [];
    for (let at = 0; at < wire.length; at += readBytes) out.push(...decoder.write(wire.subarray(at, at + readBytes)));
    expect(out.map((m) => m.toString('hex'))).toEqual([...messages.map(([, m]) => frame(m).toString('hex')), frame(Buffer.from('zzzz'), 1).toString('hex')]);
    messages.forEach(([name, message, inPlace], i) => {
      const framed = out[i]!;
      expect({ name, lent: buffers.lent.has(framed.buffer) }).toEqual({ name, lent: inPlace });
      if (inPlace) {
        const data = decodeUploadBlobRequest(framed.subarray(5)).data;
        expect({ name, dataAt: data.byteOffset }).toEqual({ name, dataAt: HEADROOM });
        expect(data.equals(content.UploadBlobRequest.decode(message).data)).toBe(true);
      }
    });
  });

  it("refuses a message over the limit with grpc-js's own error", () => {
    const decoder = new PlacingDecoder(1000, recordingBuffers());
    expect(() => decoder.write(frame(randomBytes(1001)))).toThrow('Received message larger than max (1001 vs 1000)');
  });
});

describe('requestDeframer', () => {
  const servers: Server[] = [];
  afterEach(() => servers.splice(0).forEach((s) => s.forceShutdown()));

  it("assembles a method's requests in the buffers given, on grpc-js's calls (the internals it relies on)", async () => {
    const buffers = recordingBuffers();
    const placedCalls: boolean[] = [];
    const deframer = requestDeframer(buffers);
    const server = new Server({
      interceptors: [
        (method, call) => {
          if (method.path === buffers.path) placedCalls.push(canPlaceMessages(call));
          return deframer(method, call);
        },
      ],
    });
    servers.push(server);
    const received: { inLent: boolean; dataAt: number; data: Buffer }[] = [];
    server.addService(contentServiceServerDefinition, {
      uploadBlob(call: ServerReadableStream<content.UploadBlobRequest, content.UploadBlobResponse>, callback: sendUnaryData<content.UploadBlobResponse>) {
        call.on('data', (m: content.UploadBlobRequest) => received.push({ inLent: buffers.lent.has(m.data.buffer), dataAt: m.data.byteOffset, data: Buffer.from(m.data) }));
        call.on('end', () => callback(null, { uploadId: '', committedSize: 0, complete: true, deduplicated: false, blob: undefined }));
      },
    } as never);
    const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))));
    const client = new ContentServiceClient(`127.0.0.1:${port}`, credentials.createInsecure());
    const chunks = [randomBytes(256 * 1024), randomBytes(100), randomBytes(300_000)];
    await new Promise<void>((resolve, reject) => {
      const call = client.uploadBlob((err) => (err ? reject(err) : resolve()));
      chunks.forEach((data, i) => call.write({ start: undefined, offset: i, data, finishWrite: false }));
      call.end();
    });
    client.close();
    expect(placedCalls).toEqual([true]);
    expect(received.map((r) => r.data.equals(chunks[received.indexOf(r)]!))).toEqual([true, true, true]);
    expect(received.map((r) => r.inLent)).toEqual([true, false, true]);
    expect(received.filter((r) => r.inLent).map((r) => r.dataAt)).toEqual([HEADROOM, HEADROOM]);
  });
});
