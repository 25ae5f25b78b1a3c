/**
 * A small GCS JSON-API server for tests, speaking what the real
 * `@google-cloud/storage` v7 client sends. Objects live in memory; any bucket
 * name exists. Not a general emulator: only the object calls the client's
 * uploads, downloads, listing, deletion and compose make.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { GcsHttpError } from './gcs-error';
import { sendJson } from './http-io';
import { composeObject, deleteObject, getObject, listObjects } from './object-routes';
import { ObjectTable } from './object-table';
import { ResumableSessions } from './resumable-session';
import { handleUpload, type UploadContext } from './upload-routes';

/** An object as the test sees it. */
export interface GcsTestObject {
  /** Object name. */
  name: string;
  /** Current generation. */
  generation: number;
  /** Size in bytes. */
  size: number;
  /** Content type. */
  contentType: string;
  /** The bytes. */
  data: Buffer;
}

/** A running test server. */
export interface GcsTestServer {
  /** The origin to pass as `apiEndpoint`, e.g. `http://127.0.0.1:41234`. */
  url: string;
  /** The live objects of a bucket, sorted by name. */
  objects(bucket: string): GcsTestObject[];
  /** Stops listening and drops open connections. */
  close(): Promise<void>;
}

/**
 * Starts a server on 127.0.0.1, on a free port.
 *
 * @example
 * ```ts
 * const server = await startGcsTestServer();
 * const storage = new Storage({ apiEndpoint: server.url, projectId: 'test' });
 * ```
 */
export async function startGcsTestServer(): Promise<GcsTestServer> {
  const objects = new ObjectTable();
  const ctx: UploadContext = { objects, sessions: new ResumableSessions(objects), baseUrl: '' };
  const server = createServer((req, res) => {
    route(ctx, req, res).catch((err: unknown) => respondWithError(res, err));
  });
  // The client keeps connections alive; close() must not wait for them.
  server.keepAliveTimeout = 1000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  ctx.baseUrl = `http://127.0.0.1:${port}`;
  return {
    url: ctx.baseUrl,
    objects: (bucket) =>
      objects.list(bucket).map((o) => ({
        name: o.name,
        generation: o.generation,
        size: o.data.length,
        contentType: o.contentType,
        data: o.data,
      })),
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}

async function route(ctx: UploadContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', ctx.baseUrl);
  // Split the raw path so that an encoded '/' inside an object name stays in its segment.
  const segments = url.pathname.split('/').slice(1).map(decodeURIComponent);
  const query = url.searchParams;
  const method = req.method ?? 'GET';
  const [root, ...rest] = segments;
  if (root === 'upload' && rest[0] === 'storage' && rest[1] === 'v1' && rest[2] === 'b' && rest[4] === 'o' && rest.length === 5) {
    return handleUpload(ctx, req, res, rest[3]!, query);
  }
  if (root === 'storage' && rest[0] === 'v1' && rest[1] === 'b' && rest[2] !== undefined && rest[3] === 'o') {
    const bucket = rest[2];
    const name = rest[4];
    if (name === undefined && method === 'GET') return listObjects(ctx.objects, res, bucket, query, ctx.baseUrl);
    if (name !== undefined && rest.length === 5) {
      if (method === 'GET') return getObject(ctx.objects, req, res, bucket, name, query, ctx.baseUrl);
      if (method === 'DELETE') return deleteObject(ctx.objects, res, bucket, name, query);
    }
    if (name !== undefined && rest.length === 6 && rest[5] === 'compose' && method === 'POST') {
      return composeObject(ctx.objects, req, res, bucket, name, query, ctx.baseUrl);
    }
  }
  throw new GcsHttpError(404, 'notFound', `Not found: ${method} ${url.pathname}`);
}

function respondWithError(res: ServerResponse, err: unknown): void {
  // The client went away mid-request (an aborted upload): nothing to answer.
  if (res.req.destroyed && !(err instanceof GcsHttpError)) return;
  const error =
    err instanceof GcsHttpError
      ? err
      : err instanceof SyntaxError || err instanceof URIError
        ? new GcsHttpError(400, 'parseError', 'Parse Error')
        : new GcsHttpError(500, 'backendError', err instanceof Error ? err.message : String(err));
  if (res.headersSent) {
    res.destroy();
    return;
  }
  sendJson(res, error.status, error.toJSON());
}
