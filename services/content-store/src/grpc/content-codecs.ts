/**
 * Codecs for the two messages that carry bulk bytes, which copy them as
 * little as possible: on the upload and download paths, garbage collection of
 * those copies, not hashing or disk, is what limits throughput.
 *
 * - UploadBlobRequest is decoded with `data` as a view of the received
 *   message; the generated decoder copies every chunk
 *   (`Buffer.from(reader.bytes())`).
 * - ReadContentResponse is encoded as its small fields followed by `data`, in
 *   one copy; the generated encoder copies the chunk into a writer, again when
 *   finishing, and once more into a Buffer.
 *
 * Everything else is exactly what the generated code reads and writes.
 */
import { BinaryReader, BinaryWriter } from '@bufbuild/protobuf/wire';
import { content } from '@griot/proto';

function safeNumber(value: bigint | string | number): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n)) throw new Error(`int64 value ${String(value)} is outside the safe integer range`);
  return n;
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
      case 26: {
        const view = reader.bytes();
        message.data = Buffer.from(view.buffer, view.byteOffset, view.byteLength);
        continue;
      }
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
 * Encodes a ReadContentResponse: `offset` and `total_size`, then `data` last
 * (protobuf readers accept fields in any order), copying `data` once.
 */
export function encodeReadContentResponse(message: content.ReadContentResponse): Buffer {
  const head = new BinaryWriter();
  if (message.offset !== 0) head.uint32(8).int64(message.offset);
  if (message.totalSize !== 0) head.uint32(24).int64(message.totalSize);
  if (message.data.length !== 0) head.uint32(18).uint32(message.data.length);
  const prefix = head.finish();
  return Buffer.concat([prefix, message.data], prefix.length + message.data.length);
}

/** The content service definition with the bulk-byte codecs. */
export const contentServiceDefinition: typeof content.ContentServiceService = {
  ...content.ContentServiceService,
  uploadBlob: { ...content.ContentServiceService.uploadBlob, requestDeserialize: (bytes: Buffer) => decodeUploadBlobRequest(bytes) },
  readContent: { ...content.ContentServiceService.readContent, responseSerialize: (message: content.ReadContentResponse) => encodeReadContentResponse(message) },
};
