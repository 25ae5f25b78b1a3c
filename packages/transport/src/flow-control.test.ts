import { Server, ServerCredentials } from '@grpc/grpc-js';
import { connect, type ClientHttp2Session } from 'node:http2';
import { DEFAULT_HTTP2_WINDOW, setServerFlowControlWindow } from './flow-control';

const MiB = 1024 * 1024;

async function listen(server: Server): Promise<number> {
  return new Promise((resolve, reject) => server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (err, port) => (err ? reject(err) : resolve(port))));
}

/** What a client learns of the server's receive windows: the stream window from its SETTINGS, the connection window once its WINDOW_UPDATE arrived. */
async function windowsOf(port: number): Promise<{ stream: number; connection: number }> {
  const session: ClientHttp2Session = connect(`http://127.0.0.1:${port}`);
  try {
    const settings = await new Promise<{ initialWindowSize?: number }>((resolve, reject) => {
      session.once('remoteSettings', resolve);
      session.once('error', reject);
    });
    // A ping round trip: the server's WINDOW_UPDATE, sent as its session started, has arrived by then.
    await new Promise<void>((resolve, reject) => session.ping((err) => (err ? reject(err) : resolve())));
    return { stream: settings.initialWindowSize ?? DEFAULT_HTTP2_WINDOW, connection: session.state.remoteWindowSize ?? -1 };
  } finally {
    session.close();
  }
}

describe('setServerFlowControlWindow', () => {
  const servers: Server[] = [];
  afterEach(() => servers.splice(0).forEach((s) => s.forceShutdown()));

  it('advertises the window per stream and raises the connection window of every session', async () => {
    const server = new Server();
    servers.push(server);
    setServerFlowControlWindow(server, 4 * MiB);
    const port = await listen(server);
    expect(await windowsOf(port)).toEqual({ stream: 4 * MiB, connection: 4 * MiB });
    // A second connection gets the same.
    expect(await windowsOf(port)).toEqual({ stream: 4 * MiB, connection: 4 * MiB });
  });

  it("leaves a server it was not applied to at HTTP/2's 64 KiB", async () => {
    const server = new Server();
    servers.push(server);
    const port = await listen(server);
    expect(await windowsOf(port)).toEqual({ stream: DEFAULT_HTTP2_WINDOW, connection: DEFAULT_HTTP2_WINDOW });
  });

  it.each([0, 65_534, 2 ** 31, 1.5 * MiB + 0.5])('refuses a window of %d bytes', (bytes) => {
    expect(() => setServerFlowControlWindow(new Server(), bytes)).toThrow(/flow control window must be an integer from 65535 to 2147483647 bytes/);
  });
});
