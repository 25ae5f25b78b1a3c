/**
 * StreamBuffering through a real GriotServer: how many responses a handler
 * gets to send while its client reads nothing.
 */
import { connect } from 'node:http2';
import { content } from '@griot/proto';
import { silentLogger } from './logger';
import type { StreamBuffering } from './rpc';
import { defineService, GriotServer } from './server';

const CHUNK = 64 * 1024;

async function serve(streamBuffering: StreamBuffering | undefined) {
  const progress = { sent: 0 };
  const server = new GriotServer({
    logger: silentLogger(),
    domain: 'test.griot.dev',
    streamBuffering,
    services: [
      defineService('griot.content.v1.ContentService', content.ContentServiceService, {
        async readContent(request, _ctx, send) {
          for (let i = 0; i < request.limit; i++) {
            await send({ offset: i * CHUNK, data: Buffer.alloc(CHUNK, i % 256), totalSize: 0 });
            progress.sent += 1;
          }
        },
      }),
    ],
  });
  const port = await server.listen('127.0.0.1:0');
  return { server, port, progress };
}

const settle = () => new Promise((r) => setTimeout(r, 300));

describe('stream buffering', () => {
  it.each<[string, StreamBuffering | undefined, (sent: number) => boolean]>([
    ["Node's default", undefined, (sent) => sent >= 10],
    ['writeBehind 2', { readAhead: 1, writeBehind: 2 }, (sent) => sent <= 3],
  ])('bounds what a handler sends to a client that reads nothing (%s)', async (_name, buffering, expected) => {
    const { server, port, progress } = await serve(buffering);
    // A plain HTTP/2 client that reads nothing: past its 64 KiB window, the server must hold the rest.
    const session = connect(`http://127.0.0.1:${port}`);
    try {
      const body = Buffer.from(content.ReadContentRequest.encode({ target: undefined, offset: 0, limit: 1000 }).finish());
      const frame = Buffer.concat([Buffer.from([0, 0, 0, 0, 0]), body]);
      frame.writeUInt32BE(body.length, 1);
      const stream = session.request({ ':method': 'POST', ':path': '/griot.content.v1.ContentService/ReadContent', 'content-type': 'application/grpc', te: 'trailers' });
      stream.pause();
      stream.end(frame);
      await settle();
      expect(expected(progress.sent)).toBe(true);
      stream.close();
    } finally {
      session.destroy();
      await server.shutdown(100);
    }
  });
});
