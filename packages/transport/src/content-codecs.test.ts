import { randomBytes } from 'node:crypto';
import { createServer, type Settings } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { credentials } from '@grpc/grpc-js';
import { allocReadChunk, CLIENT_FLOW_CONTROL_WINDOW, ContentServiceClient, decodeReadContentResponse, decodeUploadBlobRequest, encodeReadContentResponse, encodeUploadBlobRequest } from './content-codecs';
import { content } from '@griot/proto';

const encode = (m: content.UploadBlobRequest) => Buffer.from(content.UploadBlobRequest.encode(m).finish());

describe('decodeUploadBlobRequest', () => {
  it.each<[string, content.UploadBlobRequest]>([
    ['a first message', { start: { uploadId: 'u', storageName: 's', sha256: 'a'.repeat(64), size: 12 }, offset: 0, data: randomBytes(100), finishWrite: false }],
    ['a middle chunk', { start: undefined, offset: 123_456_789_012, data: randomBytes(65_536), finishWrite: false }],
    ['the last chunk', { start: undefined, offset: 7, data: Buffer.alloc(0), finishWrite: true }],
    ['a start without size', { start: { uploadId: '', storageName: '', sha256: '', size: undefined }, offset: 0, data: Buffer.alloc(0), finishWrite: false }],
  ])('decodes %s exactly as the generated decoder', (_name, message) => {
    const bytes = encode(message);
    expect(decodeUploadBlobRequest(bytes)).toEqual(content.UploadBlobRequest.decode(bytes));
  });

  it('returns data as a view of the received bytes, not a copy', () => {
    const bytes = encode({ start: undefined, offset: 0, data: Buffer.from('hello'), finishWrite: false });
    const decoded = decodeUploadBlobRequest(bytes);
    expect(decoded.data.toString()).toBe('hello');
    bytes[bytes.length - 1] = 0x21;
    expect(decoded.data.toString()).toBe('hell!');
  });

  it('skips unknown fields and rejects what the generated decoder rejects', () => {
    const unknown = Buffer.concat([Buffer.from([0x28, 0x05]), encode({ start: undefined, offset: 3, data: Buffer.from('x'), finishWrite: false })]);
    expect(decodeUploadBlobRequest(unknown)).toEqual(content.UploadBlobRequest.decode(unknown));
    const truncated = Buffer.from([0x1a, 0x10, 0x01]);
    expect(() => content.UploadBlobRequest.decode(truncated)).toThrow();
    expect(() => decodeUploadBlobRequest(truncated)).toThrow();
    const huge = Buffer.from([0x10, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f]);
    expect(() => decodeUploadBlobRequest(huge)).toThrow(/safe integer/);
  });
});

const uploadRequests: [string, content.UploadBlobRequest][] = [
  ['a first message', { start: { uploadId: 'u', storageName: 's', sha256: 'a'.repeat(64), size: 12 }, offset: 0, data: randomBytes(100), finishWrite: false }],
  ['a chunk past 4 GiB', { start: undefined, offset: 5 * 2 ** 30, data: randomBytes(70_000), finishWrite: false }],
  ['a final empty chunk', { start: undefined, offset: 7, data: Buffer.alloc(0), finishWrite: true }],
  ['a start without size, all else default', { start: { uploadId: '', storageName: '', sha256: '', size: undefined }, offset: 0, data: Buffer.alloc(0), finishWrite: false }],
  ['a one-message upload', { start: { uploadId: 'x', storageName: '', sha256: '', size: 0 }, offset: 0, data: Buffer.from('hi'), finishWrite: true }],
];

describe('encodeUploadBlobRequest', () => {
  it.each(uploadRequests)('encodes %s so that the generated decoder reads it back, at the generated size', (_name, message) => {
    const bytes = encodeUploadBlobRequest(message);
    expect(content.UploadBlobRequest.decode(bytes)).toEqual(message);
    expect(decodeUploadBlobRequest(bytes)).toEqual(message);
    expect(bytes.length).toBe(content.UploadBlobRequest.encode(message).finish().length);
  });
});

describe('decodeReadContentResponse', () => {
  it.each<[string, content.ReadContentResponse]>([
    ['a first chunk', { offset: 0, data: randomBytes(1000), totalSize: 5000 }],
    ['a chunk past 4 GiB', { offset: 5 * 2 ** 30, data: randomBytes(70_000), totalSize: 6 * 2 ** 30 }],
    ['all defaults', { offset: 0, data: Buffer.alloc(0), totalSize: 0 }],
  ])('decodes %s exactly as the generated decoder', (_name, message) => {
    const bytes = Buffer.from(content.ReadContentResponse.encode(message).finish());
    expect(decodeReadContentResponse(bytes)).toEqual(content.ReadContentResponse.decode(bytes));
  });

  it('returns data as a view of the received bytes, and skips unknown fields', () => {
    const bytes = Buffer.concat([Buffer.from([0x28, 0x05]), encodeReadContentResponse({ offset: 3, data: Buffer.from('hello'), totalSize: 8 })]);
    const decoded = decodeReadContentResponse(bytes);
    expect(decoded).toEqual({ offset: 3, data: Buffer.from('hello'), totalSize: 8 });
    bytes[bytes.length - 1] = 0x21;
    expect(decoded.data.toString()).toBe('hell!');
    expect(() => decodeReadContentResponse(Buffer.from([0x12, 0x10, 0x01]))).toThrow();
  });
});

describe('encodeReadContentResponse', () => {
  it.each<[string, content.ReadContentResponse]>([
    ['a first chunk', { offset: 0, data: randomBytes(1000), totalSize: 5000 }],
    ['a later chunk past 4 GiB', { offset: 5 * 2 ** 30, data: randomBytes(70_000), totalSize: 6 * 2 ** 30 }],
    ['an empty read', { offset: 12, data: Buffer.alloc(0), totalSize: 12 }],
    ['all defaults', { offset: 0, data: Buffer.alloc(0), totalSize: 0 }],
  ])('encodes %s so that the generated decoder reads it back', (_name, message) => {
    const bytes = encodeReadContentResponse(message);
    expect(content.ReadContentResponse.decode(bytes)).toEqual(message);
    expect(bytes.length).toBe(content.ReadContentResponse.encode(message).finish().length);
  });

  it.each<[string, number, number]>([
    ['small fields', 0, 1000],
    ['the largest offsets', Number.MAX_SAFE_INTEGER - 70_000, Number.MAX_SAFE_INTEGER],
  ])('encodes a chunk from allocReadChunk in place, with %s', (_name, offset, totalSize) => {
    const data = allocReadChunk(70_000);
    randomBytes(70_000).copy(data);
    // The same bytes as the copying encoder gives for a plain buffer, which the generated decoder reads back.
    const expected = encodeReadContentResponse({ offset, data: Buffer.from(data), totalSize });
    expect(content.ReadContentResponse.decode(expected)).toEqual({ offset, data: Buffer.from(data), totalSize });
    const bytes = encodeReadContentResponse({ offset, data, totalSize });
    expect(bytes.equals(expected)).toBe(true);
    expect(bytes.buffer).toBe(data.buffer); // no copy: the message is the chunk with its fields before it
    // ... and its gRPC frame header before those, so that grpc-js sends that memory as it is (framed-responses.ts).
    const frame = Buffer.from(bytes.buffer, bytes.byteOffset - 5, 5);
    expect([frame[0], frame.readUInt32BE(1)]).toEqual([0, bytes.length]);
    // A view of such a chunk is encoded with a copy, and its bytes before it are left alone.
    const view = data.subarray(1);
    const before = Buffer.from(Buffer.from(data.buffer, 0, data.byteOffset + 1));
    const copied = encodeReadContentResponse({ offset, data: view, totalSize });
    expect(copied.buffer).not.toBe(data.buffer);
    expect(content.ReadContentResponse.decode(copied).data.equals(view)).toBe(true);
    expect(Buffer.from(data.buffer, 0, data.byteOffset + 1).equals(before)).toBe(true);
  });
});

describe('ContentServiceClient', () => {
  /** The HTTP/2 settings a client made with `options` sends when it connects. */
  async function settingsOf(options?: Record<string, number>): Promise<Settings> {
    const server = createServer();
    const settings = new Promise<Settings>((resolve) => server.on('session', (session) => session.once('remoteSettings', resolve)));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const client = new ContentServiceClient(`127.0.0.1:${(server.address() as AddressInfo).port}`, credentials.createInsecure(), options);
    try {
      client.waitForReady(Date.now() + 5000, () => undefined);
      return await settings;
    } finally {
      client.close();
      await new Promise((r) => server.close(r));
    }
  }

  it('asks for a 4 MiB receive window, unless its options set one', async () => {
    expect(CLIENT_FLOW_CONTROL_WINDOW).toBe(4 * 1024 * 1024);
    expect((await settingsOf()).initialWindowSize).toBe(CLIENT_FLOW_CONTROL_WINDOW);
    expect((await settingsOf({ 'grpc-node.flow_control_window': 1024 * 1024 })).initialWindowSize).toBe(1024 * 1024);
  });
});
