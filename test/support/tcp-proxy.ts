/**
 * A small TCP proxy for fault tests: it forwards every connection to a
 * target address, and can cut every connection it carries (as a network
 * failure would) or hold new connections without answering (as a stalled
 * server would).
 */
import { createConnection, createServer, type Server, type Socket } from 'node:net';

/** A running proxy. */
export interface TcpProxy {
  /** `127.0.0.1:port` to connect to instead of the target. */
  readonly address: string;
  /** How many connections were accepted so far. */
  readonly connectionCount: number;
  /** Destroys every current connection, both sides; new ones are still accepted. */
  cutAll(): void;
  /**
   * From now on, accepts new connections but neither forwards nor answers
   * them (until {@link TcpProxy.release}); connections already open are left
   * alone.
   */
  hold(): void;
  /** Forwards the held connections and every new one again. */
  release(): void;
  /** Cuts every connection and stops listening. */
  close(): Promise<void>;
}

/**
 * Starts a proxy on a free port of 127.0.0.1 to `target` (`host:port`).
 *
 * @param target - Where connections are forwarded.
 */
export async function startTcpProxy(target: string): Promise<TcpProxy> {
  const separator = target.lastIndexOf(':');
  const host = target.slice(0, separator);
  const port = Number(target.slice(separator + 1));
  const sockets = new Set<Socket>();
  const held: Socket[] = [];
  let holding = false;
  let count = 0;

  const track = (socket: Socket): void => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    // A cut connection errors on the other side's pending writes; that is the point.
    socket.on('error', () => undefined);
  };

  const forward = (client: Socket): void => {
    if (client.destroyed) return;
    const upstream = createConnection({ host, port });
    track(upstream);
    client.pipe(upstream);
    upstream.pipe(client);
    client.once('close', () => upstream.destroy());
    upstream.once('close', () => client.destroy());
    client.resume();
  };

  const server: Server = createServer({ pauseOnConnect: true }, (client) => {
    count += 1;
    track(client);
    if (holding) held.push(client);
    else forward(client);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port: ownPort } = server.address() as { port: number };

  const cutAll = (): void => {
    held.length = 0;
    for (const socket of sockets) socket.destroy();
    sockets.clear();
  };

  return {
    address: `127.0.0.1:${ownPort}`,
    get connectionCount() {
      return count;
    },
    cutAll,
    hold() {
      holding = true;
    },
    release() {
      holding = false;
      for (const client of held.splice(0)) forward(client);
    },
    async close() {
      cutAll();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
