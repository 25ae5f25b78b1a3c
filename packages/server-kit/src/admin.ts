/**
 * The admin HTTP server of a service: plaintext HTTP/1.1 even when gRPC uses
 * TLS (Kubernetes probes and Prometheus scrapes speak it), on its own address
 * (`REGISTRY_ADMIN_LISTEN`, `CONTENT_ADMIN_LISTEN`):
 *
 * - `GET /healthz`: 200 while the process is alive and not shutting down, else 503;
 * - `GET /readyz`: 200 when the service can do its job (its readiness checks
 *   passed at their last round, a second or two ago), else 503 with the reason in one line;
 * - `GET /metrics`: the service's metrics in Prometheus' text format.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { ServiceMetrics } from './metrics';
import type { ReadinessState } from './readiness';

/** What the admin server asks of the service. */
export interface AdminSubject {
  /** True once the service started shutting down. */
  readonly shuttingDown: boolean;
  /** The last readiness outcome. */
  readinessState(): ReadinessState;
  /** The service's metrics. */
  readonly metrics: ServiceMetrics;
}

/** A running admin server. */
export interface AdminServer {
  /** `host:port` it listens on. */
  address: string;
  /** The bound port. */
  port: number;
  /** Stops listening and closes its connections. */
  close(): Promise<void>;
}

/**
 * Starts an admin server on `listen` (`host:port`; port 0 picks one). Node.js
 * process metrics are added to the service's metrics at this point.
 */
export async function startAdminServer(listen: string, subject: AdminSubject, logger: Logger): Promise<AdminServer> {
  subject.metrics.collectProcessMetrics();
  const server = createServer((req, res) => {
    handle(req, res, subject).catch((err: unknown) => {
      logger.error({ err, path: req.url }, 'admin request failed');
      if (!res.headersSent) send(res, 500, 'internal error\n');
      else res.destroy();
    });
  });
  server.keepAliveTimeout = 65_000;
  const colon = listen.lastIndexOf(':');
  const host = listen.slice(0, colon).replace(/^\[(.*)\]$/, '$1');
  const port = Number(listen.slice(colon + 1));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const bound = (server.address() as AddressInfo).port;
  const address = `${listen.slice(0, colon)}:${bound}`;
  return {
    address,
    port: bound,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

async function handle(req: IncomingMessage, res: ServerResponse, subject: AdminSubject): Promise<void> {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.setHeader('allow', 'GET, HEAD');
    return send(res, 405, 'only GET and HEAD\n');
  }
  const path = (req.url ?? '/').split('?')[0];
  switch (path) {
    case '/healthz':
      return subject.shuttingDown ? send(res, 503, 'shutting down\n') : send(res, 200, 'ok\n');
    case '/readyz': {
      if (subject.shuttingDown) return send(res, 503, 'not ready: shutting down\n');
      const state = subject.readinessState();
      return state.ready ? send(res, 200, 'ready\n') : send(res, 503, `not ready: ${state.reason}\n`);
    }
    case '/metrics': {
      const registry = subject.metrics.registry;
      const body = await registry.metrics();
      return send(res, 200, body, registry.contentType);
    }
    default:
      return send(res, 404, 'not found: the admin server serves /healthz, /readyz and /metrics\n');
  }
}

function send(res: ServerResponse, status: number, body: string, type = 'text/plain; charset=utf-8'): void {
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store' });
  res.end(res.req.method === 'HEAD' ? undefined : body);
}
