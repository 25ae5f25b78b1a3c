/**
 * What setCallStreamBuffer relies on: a grpc-js server call keeps its Node
 * stream state, with a numeric `highWaterMark`, in `_readableState` and
 * `_writableState`. A grpc-js upgrade that changes that fails here.
 */
import { credentials, Server, ServerCredentials, type ServerDuplexStream } from '@grpc/grpc-js';
import { content } from '@griot/proto';
import { setCallStreamBuffer } from './stream-buffer';

it('sets the request and response buffers of a real grpc-js bidirectional call', async () => {
  const server = new Server();
  const seen = new Promise<{ before: unknown[]; after: unknown[] }>((resolve) => {
    // Any bidirectional method will do; the content service has none, so serve UploadBlob's shape as bidi.
    const definition = { ...content.ContentServiceService.uploadBlob, responseStream: true };
    server.addService({ uploadBlob: definition }, {
      uploadBlob(call: ServerDuplexStream<content.UploadBlobRequest, content.UploadBlobResponse>) {
        const marks = () => [(call as unknown as { _readableState: { highWaterMark: unknown } })._readableState.highWaterMark, (call as unknown as { _writableState: { highWaterMark: unknown } })._writableState.highWaterMark];
        const before = marks();
        setCallStreamBuffer(call, '_readableState', 2);
        setCallStreamBuffer(call, '_writableState', 0);
        resolve({ before, after: marks() });
        call.end();
      },
    });
  });
  const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))));
  const Client = (await import('@grpc/grpc-js')).makeGenericClientConstructor({ uploadBlob: { ...content.ContentServiceService.uploadBlob, responseStream: true } }, 'Probe');
  const client = new Client(`127.0.0.1:${port}`, credentials.createInsecure());
  try {
    const call = (client as unknown as { uploadBlob(): NodeJS.ReadWriteStream }).uploadBlob();
    call.on('data', () => undefined);
    const ended = new Promise<void>((resolve) => call.on('end', resolve).on('error', () => resolve()));
    call.end();
    const { before, after } = await seen;
    expect(before.every((mark) => typeof mark === 'number')).toBe(true);
    // At least one message each way, whatever is asked.
    expect(after).toEqual([2, 1]);
    await ended;
  } finally {
    client.close();
    server.forceShutdown();
  }
});

it('leaves an object without stream state alone', () => {
  const plain = {};
  setCallStreamBuffer(plain, '_readableState', 4);
  expect(plain).toEqual({});
});
