/**
 * The bare grpc-js baseline of the content store benchmarks, run as a
 * process of its own: the ContentService definition with an UploadBlob that
 * only counts and discards the chunks, and a ReadContent that sends `limit`
 * bytes from memory in chunks of `BENCH_CHUNK_BYTES`. It is the transport
 * alone, configured as the content store's server is, so that the only
 * difference is the work the store does per byte:
 * - the content store's message codecs (chunks decoded as views; read chunks
 *   sent from a buffer with headroom, without a copy, as the store's are);
 * - its message limit (`BENCH_MAX_RECEIVE_BYTES`), its stream buffering
 *   (one request read ahead, two responses written behind) and its V8 heap
 *   growth (`tuneHeapGrowth`, as every service process runs);
 * - its HTTP/2 receive window when `BENCH_FLOW_WINDOW` gives it; otherwise
 *   grpc-js's default of 64 KiB (a reference only).
 */
import { Server, ServerCredentials, type sendUnaryData, type ServerReadableStream, type ServerWritableStream } from '@grpc/grpc-js';
import { content } from '@griot/proto';
import { tuneHeapGrowth } from '@griot/server-kit';
import { contentCodecs, setCallStreamBuffer, setServerFlowControlWindow } from '@griot/transport';

tuneHeapGrowth();
const chunkBytes = Number(process.env.BENCH_CHUNK_BYTES ?? 1024 * 1024);
// A chunk with the codec's headroom is sent without a copy, as the store's read chunks are.
const source = contentCodecs.allocReadChunk(chunkBytes).fill(7);

const server = new Server({
  'grpc.max_receive_message_length': Number(process.env.BENCH_MAX_RECEIVE_BYTES ?? 4 * 1024 * 1024 + 64 * 1024),
  'grpc.keepalive_permit_without_calls': 1,
  'grpc.http2.min_ping_interval_without_data_ms': 10_000,
});
if (process.env.BENCH_FLOW_WINDOW) setServerFlowControlWindow(server, Number(process.env.BENCH_FLOW_WINDOW));
server.addService(contentCodecs.contentServiceServerDefinition, {
  uploadBlob(call: ServerReadableStream<content.UploadBlobRequest, content.UploadBlobResponse>, callback: sendUnaryData<content.UploadBlobResponse>) {
    setCallStreamBuffer(call, '_readableState', 1);
    let bytes = 0;
    call.on('data', (m: content.UploadBlobRequest) => (bytes += m.data.length));
    call.on('end', () => callback(null, { uploadId: '', committedSize: bytes, complete: true, deduplicated: false, blob: undefined }));
  },
  readContent(call: ServerWritableStream<content.ReadContentRequest, content.ReadContentResponse>) {
    setCallStreamBuffer(call, '_writableState', 2);
    const total = call.request.limit;
    void (async () => {
      for (let offset = 0; offset < total; offset += chunkBytes) {
        const data = total - offset >= chunkBytes ? source : source.subarray(0, total - offset);
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
