/** GriotServer's `flowControlWindow` option reaches the wire (the window itself is tested in @griot/transport). */
import { connect } from 'node:http2';
import { silentLogger } from './logger';
import { GriotServer } from './server';

const MiB = 1024 * 1024;

it("GriotServer's flowControlWindow is the stream and connection window its clients are given", async () => {
  const server = new GriotServer({ logger: silentLogger(), domain: 'test.griot.dev', services: [], flowControlWindow: 2 * MiB });
  const port = await server.listen('127.0.0.1:0');
  const session = connect(`http://127.0.0.1:${port}`);
  try {
    const settings = await new Promise<{ initialWindowSize?: number }>((resolve, reject) => {
      session.once('remoteSettings', resolve);
      session.once('error', reject);
    });
    // After a ping round trip the WINDOW_UPDATE the server sent as the session started has arrived.
    await new Promise<void>((resolve, reject) => session.ping((err) => (err ? reject(err) : resolve())));
    expect({ stream: settings.initialWindowSize, connection: session.state.remoteWindowSize }).toEqual({ stream: 2 * MiB, connection: 2 * MiB });
  } finally {
    session.close();
    await server.shutdown(100);
  }
});
