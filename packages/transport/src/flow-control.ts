/**
 * The HTTP/2 receive window of a grpc-js server.
 *
 * grpc-js 1.14 reads `grpc-node.flow_control_window` on the client only
 * (grpc/grpc-node#3058 would add it to the server): a server advertises
 * Node's default window of 64 KiB per stream and per connection, so a client
 * streaming a large upload must stop every 64 KiB until the server's
 * WINDOW_UPDATE comes back. On loopback that caps one upload near 200 MiB/s;
 * over a link with any latency, at `window / RTT`.
 *
 * This does on the server what that option does on the client: it advertises
 * a larger initial stream window in the server's SETTINGS, and raises each
 * session's connection window as the session starts. It reaches two grpc-js
 * internals (`commonServerOptions`, read when the server binds, and
 * `_setupHandlers`, called for each bound HTTP/2 server), checks that both
 * are there, and throws if a grpc-js upgrade removes them, so that the loss
 * is caught by the tests rather than silently costing throughput.
 *
 * Memory: a peer may send up to the stream window on a stream before the
 * server reads, and up to the connection window on a connection, so the
 * connection window bounds what one connection can make the server buffer.
 */
import type { Server } from '@grpc/grpc-js';
import type { Http2Server, Http2Session, Settings } from 'node:http2';

/** The largest window HTTP/2 allows (2^31 - 1). */
export const MAX_FLOW_CONTROL_WINDOW = 2 ** 31 - 1;
/** HTTP/2's own default window. */
export const DEFAULT_HTTP2_WINDOW = 65_535;

interface ServerInternals {
  commonServerOptions?: { settings?: Settings };
  _setupHandlers?: (http2Server: Http2Server, ...rest: unknown[]) => void;
}

/**
 * Sets the receive window of every HTTP/2 session `server` accepts from now
 * on. Call it before `bindAsync`.
 *
 * @param server - A grpc-js server not yet bound.
 * @param windowBytes - The stream and connection window, 65,535 to 2^31 - 1 bytes.
 */
export function setServerFlowControlWindow(server: Server, windowBytes: number): void {
  if (!Number.isInteger(windowBytes) || windowBytes < DEFAULT_HTTP2_WINDOW || windowBytes > MAX_FLOW_CONTROL_WINDOW) {
    throw new RangeError(`flow control window must be an integer from ${DEFAULT_HTTP2_WINDOW} to ${MAX_FLOW_CONTROL_WINDOW} bytes, got ${windowBytes}`);
  }
  const internals = server as unknown as ServerInternals;
  const setup = internals._setupHandlers;
  if (typeof internals.commonServerOptions !== 'object' || typeof setup !== 'function') {
    throw new Error('this @grpc/grpc-js has no commonServerOptions/_setupHandlers; the server flow control window cannot be set');
  }
  const options = internals.commonServerOptions;
  options.settings = { ...options.settings, initialWindowSize: windowBytes };
  internals._setupHandlers = function (this: unknown, http2Server: Http2Server, ...rest: unknown[]) {
    http2Server.on('session', (session: Http2Session) => raiseConnectionWindow(session, windowBytes));
    return setup.call(this, http2Server, ...rest);
  };
}

/** Raises a session's connection-level receive window to `windowBytes`. */
function raiseConnectionWindow(session: Http2Session, windowBytes: number): void {
  try {
    session.setLocalWindowSize(windowBytes);
  } catch {
    // The session was destroyed before it started; nothing to raise.
  }
}
