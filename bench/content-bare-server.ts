/**
 * The bare grpc-js baseline of the content store benchmarks, run as a
 * process of its own: the ContentService definition with an UploadBlob that
 * only counts and discards the chunks, and a ReadContent that sends `limit`
 * bytes from memory in chunks of `BENCH_CHUNK_BYTES`. It uses the content
 * store's message codecs and the same message limits as the content store's
 * server, so that the only difference is the work done per byte. It keeps
 * grpc-js's default HTTP/2 window unless `BENCH_FLOW_WINDOW` gives the one
 * the content store sets.
 */
import { Server, ServerCredentials, type sendUnaryData, type ServerReadableStream, type ServerWritableStream } from '@grpc/grpc-js';
import { randomBytes } from 'node:crypto';
import { content } from '@griot/proto';
import { contentCodecs, setServerFlowControlWindow } from '@griot/transport';

const chunkBytes = Number(process.env.BENCH_CHUNK_BYTES ?? 1024 * 1024);
const source = randomBytes(chunkBytes);

// The options GriotServer gives the content store's server (its default chunk limit plus framing room).
const server = new Server({
  'grpc.max_receive_message_length': 4 * 1024 * 1024 + 64 * 1024,
  'grpc.keepalive_permit_without_calls': 1,
  'grpc.http2.min_ping_interval_without_data_ms': 10_000,
});
if (process.env.BENCH_FLOW_WINDOW) setServerFlowControlWindow(server, Number(process.env.BENCH_FLOW_WINDOW));
server.addService(contentCodecs.contentServiceServerDefinition, {
  uploadBlob(call: ServerReadableStream<content.UploadBlobRequest, content.UploadBlobResponse>, callback: sendUnaryData<content.UploadBlobResponse>) {
    let bytes = 0;
    call.on('data', (m: content.UploadBlobRequest) => (bytes += m.data.length));
    call.on('end', () => callback(null, { uploadId: '', committedSize: bytes, complete: true, deduplicated: false, blob: undefined }));
  },
  readContent(call: ServerWritableStream<content.ReadContentRequest, content.ReadContentResponse>) {
    const total = call.request.limit;
    void (async () => {
      for (let offset = 0; offset < total; offset += chunkBytes) {
        const data = source.subarray(0, Math.min(chunkBytes, total - offset));
        if (!call.write({ offset, data, totalSize: total })) await new Promise((r) => call.once('drain', r));
      }
      call.end();
    })();
  },
} as never);
server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (err, port) => {
  if (err) throw err;
  process.stdout.write(`${JSON.stringify({ msg: 'listening', address: `127.0.0.1:${port}` })}\n`);
});
process.once('SIGTERM', () => server.tryShutdown(() => process.exit(0)));
