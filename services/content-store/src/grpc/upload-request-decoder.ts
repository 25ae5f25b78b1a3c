/**
 * A decoder of UploadBlobRequest whose `data` is a view of the received
 * message instead of a copy. The generated decoder copies every chunk
 * (`Buffer.from(reader.bytes())`); on the upload path that doubles the
 * memory allocated per byte received, and garbage collection, not hashing or
 * disk, is what limits upload throughput. Everything else decodes as the
 * generated code does.
 */
import { BinaryReader } from '@bufbuild/protobuf/wire';
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

/** The content service definition with the zero-copy UploadBlob decoder. */
export const contentServiceDefinition: typeof content.ContentServiceService = {
  ...content.ContentServiceService,
  uploadBlob: { ...content.ContentServiceService.uploadBlob, requestDeserialize: (bytes: Buffer) => decodeUploadBlobRequest(bytes) },
};
