/**
 * GriotServer's maximum connection age: a connection older than it is sent
 * GOAWAY, so that a client reconnects (to another replica behind a load
 * balancer), while the calls in flight on it go on within the grace.
 */
import { Client, connectivityState, credentials, type ServiceDefinition } from '@grpc/grpc-js';
import { silentLogger } from './logger';
import { GriotServer } from './server';

const AGE_MS = 600;
const identity = (b: Buffer) => b;
const TICKS: ServiceDefinition = {
  tick: { path: '/griot.test.Ticks/Tick', requestStream: false, responseStream: true, requestSerialize: identity, requestDeserialize: identity, responseSerialize: identity, responseDeserialize: identity },
  ping: { path: '/griot.test.Ticks/Ping', requestStream: false, responseStream: false, requestSerialize: identity, requestDeserialize: identity, responseSerialize: identity, responseDeserialize: identity },
};

/** Resolves when the channel's state satisfies `done`. */
async function waitForState(client: Client, done: (state: connectivityState) => boolean): Promise<connectivityState> {
  const channel = client.getChannel();
  for (;;) {
    const state = channel.getConnectivityState(false);
    if (done(state)) return state;
    await new Promise<void>((resolve) => channel.watchConnectivityState(state, Date.now() + 60_000, () => resolve()));
  }
}

function ping(client: Client): Promise<void> {
  return new Promise((resolve, reject) => client.makeUnaryRequest('/griot.test.Ticks/Ping', identity, identity, Buffer.alloc(0), (err) => (err ? reject(err) : resolve())));
}

describe('the maximum connection age', () => {
  let server: GriotServer;
  let client: Client;
  let release: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));

  beforeAll(async () => {
    server = new GriotServer({ logger: silentLogger(), domain: 'test.griot.dev', services: [], maxConnectionAgeMs: AGE_MS, maxConnectionAgeGraceMs: 30_000 });
    server.addRawService(TICKS, {
      // One tick, then the rest once the test says so (after the connection's GOAWAY).
      tick: (call: { write(b: Buffer): void; end(): void }) => {
        call.write(Buffer.from('first'));
        void released.then(() => {
          for (let i = 0; i < 3; i++) call.write(Buffer.from(`tick ${i}`));
          call.end();
        });
      },
      ping: (_call: unknown, callback: (err: null, res: Buffer) => void) => callback(null, Buffer.alloc(0)),
    });
    const port = await server.listen('127.0.0.1:0');
    client = new Client(`127.0.0.1:${port}`, credentials.createInsecure());
  });

  afterAll(async () => {
    client.close();
    await server.shutdown(100);
  });

  it('sends GOAWAY to an older connection, lets its stream finish, and the client reconnects', async () => {
    const messages: string[] = [];
    let connectedAt = 0;
    const finished = new Promise<number>((resolve, reject) => {
      const call = client.makeServerStreamRequest('/griot.test.Ticks/Tick', identity, identity, Buffer.alloc(0));
      call.on('data', (b: Buffer) => {
        if (messages.length === 0) connectedAt = Date.now();
        messages.push(b.toString());
      });
      call.on('error', reject);
      call.on('status', (status) => resolve(status.code));
    });
    await waitForState(client, (s) => s === connectivityState.READY);
    // The GOAWAY makes the client's channel leave READY while the stream is still open on the old connection.
    await waitForState(client, (s) => s !== connectivityState.READY);
    const goawayAfter = Date.now() - connectedAt;
    expect(messages).toEqual(['first']);
    expect(goawayAfter).toBeGreaterThanOrEqual(AGE_MS * 0.9 - 50);
    release();
    // The stream, older than the connection's age, completes within the grace.
    expect(await finished).toBe(0);
    expect(messages).toEqual(['first', 'tick 0', 'tick 1', 'tick 2']);
    // A new call opens a new connection.
    await ping(client);
    expect(client.getChannel().getConnectivityState(false)).toBe(connectivityState.READY);
  });
});
