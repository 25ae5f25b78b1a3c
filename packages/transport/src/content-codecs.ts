/**
 * Codecs for the two messages that carry bulk bytes, on both sides of the
 * wire, which copy those bytes as little as possible. On the upload and
 * download paths the generated codecs copy every chunk three or four times
 * (into a writer, again when finishing, once more into a Buffer; or out of
 * the received message), and garbage collection of those copies, not hashing
 * or disk, is then what limits throughput, in the server and in the client.
 *
 * - UploadBlobRequest: encoded as its small fields followed by `data`, in one
 *   copy (client); decoded with `data` as a view of the received message
 *   (server).
 * - ReadContentResponse: encoded in one copy, or none at all (nor in
 *   grpc-js's framing) for a chunk read into a buffer from `allocReadChunk`
 *   (server); decoded with `data` as a view of
 *   the received message (client).
 *
 * Fields may come in any order in protobuf, so putting `data` last changes
 * nothing for any reader; everything else is exactly what the generated code
 * reads and writes.
 */
import { BinaryReader, BinaryWriter } from '@bufbuild/protobuf/wire';
import { makeGenericClientConstructor, type ChannelCredentials, type ClientOptions } from '@grpc/grpc-js';
import { content } from '@griot/proto';
import { frameInPlace } from './framed-responses';

function safeNumber(value: bigint | string | number): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n)) throw new Error(`int64 value ${String(value)} is outside the safe integer range`);
  return n;
}

/** A view of `view`'s bytes as a Buffer, sharing its memory. */
function viewAsBuffer(view: Uint8Array): Buffer {
  return Buffer.from(view.buffer, view.byteOffset, view.byteLength);
}

/** Every byte of a message before `data`: the small fields already written to `head`, then the tag and length of `data` (none when it is empty). */
function finishBefore(head: BinaryWriter, tag: number, data: Uint8Array): Uint8Array {
  if (data.length !== 0) head.uint32(tag).uint32(data.length);
  return head.finish();
}

/** `prefix` then `data`, in one allocation. */
function join(prefix: Uint8Array, data: Uint8Array): Buffer {
  return Buffer.concat([prefix, data], prefix.length + data.length);
}

/** Decodes an UploadBlobRequest; `data` shares memory with `bytes`. */
export function decodeUploadBlobRequest(bytes: Uint8Array): content.UploadBlobRequest {
  const reader = new BinaryReader(bytes);
  const message: content.UploadBlobRequest = { start: undefined, offset: 0, data: Buffer.alloc(0), finishWrite: false };
  while (reader.pos < reader.len) {
    const tag = reader.uint32();
    switch (tag) {
      case 10:
        message.start = content.UploadStart.decode(reader, reader.uint32());
        continue;
      case 16:
        message.offset = safeNumber(reader.int64());
        continue;
      case 26:
        message.data = viewAsBuffer(reader.bytes());
        continue;
      case 32:
        message.finishWrite = reader.bool();
        continue;
    }
    if ((tag & 7) === 4 || tag === 0) break;
    reader.skip(tag & 7);
  }
  return message;
}

/**
 * The bytes of an encoded UploadBlobRequest that come before `data`:
 * `start`, `offset`, `finish_write`, then the tag and length of `data`.
 * Followed by `data`, they are the whole message.
 */
export function encodeUploadBlobRequestHead(message: content.UploadBlobRequest): Uint8Array {
  const head = new BinaryWriter();
  if (message.start !== undefined) content.UploadStart.encode(message.start, head.uint32(10).fork()).join();
  if (message.offset !== 0) head.uint32(16).int64(message.offset);
  if (message.finishWrite) head.uint32(32).bool(message.finishWrite);
  return finishBefore(head, 26, message.data);
}

/** Encodes an UploadBlobRequest: its {@link encodeUploadBlobRequestHead}, then `data`, copying `data` once. */
export function encodeUploadBlobRequest(message: content.UploadBlobRequest): Buffer {
  return join(encodeUploadBlobRequestHead(message), message.data);
}

/** Decodes a ReadContentResponse; `data` shares memory with `bytes`. */
export function decodeReadContentResponse(bytes: Uint8Array): content.ReadContentResponse {
  const reader = new BinaryReader(bytes);
  const message: content.ReadContentResponse = { offset: 0, data: Buffer.alloc(0), totalSize: 0 };
  while (reader.pos < reader.len) {
    const tag = reader.uint32();
    switch (tag) {
      case 8:
        message.offset = safeNumber(reader.int64());
        continue;
      case 18:
        message.data = viewAsBuffer(reader.bytes());
        continue;
      case 24:
        message.totalSize = safeNumber(reader.int64());
        continue;
    }
    if ((tag & 7) === 4 || tag === 0) break;
    reader.skip(tag & 7);
  }
  return message;
}

/**
 * Bytes kept free before a chunk from {@link allocReadChunk}: room for every
 * other field of a ReadContentResponse (at most 28 bytes) and the 5-byte
 * gRPC frame header before them.
 */
export const READ_CHUNK_HEADROOM = 40;
/** Chunks from {@link allocReadChunk}, whose headroom is free for the encoder. */
const withHeadroom = new WeakSet<Uint8Array>();

/**
 * A buffer of `size` bytes for a server to read a ReadContent chunk into,
 * with room before it in which {@link encodeReadContentResponse} writes the
 * response's other fields and its gRPC frame header, so that the message is
 * sent without copying the chunk (not by the encoder, nor by grpc-js). The chunk itself is an ordinary Buffer; a view of it (`subarray`)
 * is encoded with a copy, as any other.
 */
export function allocReadChunk(size: number): Buffer {
  const chunk = Buffer.allocUnsafeSlow(READ_CHUNK_HEADROOM + size).subarray(READ_CHUNK_HEADROOM);
  withHeadroom.add(chunk);
  return chunk;
}

/**
 * Encodes a ReadContentResponse: `offset` and `total_size`, then `data` last.
 * A chunk from {@link allocReadChunk} is not copied: the other fields are
 * written into its headroom; any other is copied once.
 */
export function encodeReadContentResponse(message: content.ReadContentResponse): Buffer {
  const head = new BinaryWriter();
  if (message.offset !== 0) head.uint32(8).int64(message.offset);
  if (message.totalSize !== 0) head.uint32(24).int64(message.totalSize);
  const data = message.data;
  const prefix = finishBefore(head, 18, data);
  if (data.length === 0 || !withHeadroom.has(data) || prefix.length + 5 > READ_CHUNK_HEADROOM) return join(prefix, data);
  const encoded = Buffer.from(data.buffer, data.byteOffset - prefix.length, prefix.length + data.length);
  encoded.set(prefix, 0);
  // The frame header goes in the headroom too: grpc-js sends the chunk's memory as it is, with no copy at all.
  return frameInPlace(encoded);
}

const generated = content.ContentServiceService;

/** The content service definition for servers: bulk requests decoded without a copy, bulk responses encoded in one. */
export const contentServiceServerDefinition: typeof content.ContentServiceService = {
  ...generated,
  uploadBlob: { ...generated.uploadBlob, requestDeserialize: (bytes: Buffer) => decodeUploadBlobRequest(bytes) },
  readContent: { ...generated.readContent, responseSerialize: (message: content.ReadContentResponse) => encodeReadContentResponse(message) },
};

/** The content service definition for clients: bulk requests encoded in one copy, bulk responses decoded without one. */
export const contentServiceClientDefinition: typeof content.ContentServiceService = {
  ...generated,
  uploadBlob: { ...generated.uploadBlob, requestSerialize: (message: content.UploadBlobRequest) => encodeUploadBlobRequest(message) },
  readContent: { ...generated.readContent, responseDeserialize: (bytes: Buffer) => decodeReadContentResponse(bytes) },
};

/**
 * The HTTP/2 receive window a {@link ContentServiceClient} asks for unless its
 * options set `grpc-node.flow_control_window`. With HTTP/2's default of
 * 64 KiB, a server sending 1 MiB chunks stops for a window update sixteen
 * times per chunk; here ReadContent runs about twice as fast, and the
 * window is only a limit on what may be in flight, not memory taken.
 */
export const CLIENT_FLOW_CONTROL_WINDOW = 4 * 1024 * 1024;

const GeneratedClient = makeGenericClientConstructor(contentServiceClientDefinition, 'griot.content.v1.ContentService');

/**
 * The generated `ContentServiceClient`, with the bulk-byte codecs and a
 * {@link CLIENT_FLOW_CONTROL_WINDOW} receive window: the same constructor and
 * methods, about half the client CPU per uploaded byte. Chunks received from
 * `readContent` are views of the received message, so a caller that keeps one
 * keeps that message's memory.
 */
export const ContentServiceClient = class ContentServiceClient extends GeneratedClient {
  constructor(address: string, channelCredentials: ChannelCredentials, options: Partial<ClientOptions> = {}) {
    super(address, channelCredentials, { 'grpc-node.flow_control_window': CLIENT_FLOW_CONTROL_WINDOW, ...options });
  }
} as unknown as typeof content.ContentServiceClient;
