/**
 * The upload endpoint, `/upload/storage/v1/b/:bucket/o`: simple (`media`),
 * `multipart` and `resumable` uploads, and the PUT/DELETE requests on a
 * resumable session URI.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { badRequest } from './gcs-error';
import { customMetadataOf, preconditionsOf, readBody, sendJson } from './http-io';
import { parseMultipartRelated } from './multipart-related';
import { objectResource } from './object-resource';
import type { ObjectTable } from './object-table';
import { parseContentRange, type ResumableSession, type ResumableSessions } from './resumable-session';

/** What the upload handlers share. */
export interface UploadContext {
  /** The objects. */
  objects: ObjectTable;
  /** Open resumable sessions. */
  sessions: ResumableSessions;
  /** The server's origin, e.g. `http://127.0.0.1:41234`. */
  baseUrl: string;
}

/**
 * Handles one request to the upload endpoint of a bucket.
 *
 * @param ctx - Shared state.
 * @param req - The request.
 * @param res - The response.
 * @param bucket - Bucket name from the path.
 * @param query - Query parameters.
 */
export async function handleUpload(
  ctx: UploadContext,
  req: IncomingMessage,
  res: ServerResponse,
  bucket: string,
  query: URLSearchParams,
): Promise<void> {
  const sessionId = query.get('upload_id');
  if (sessionId !== null) {
    if (req.method === 'PUT' || req.method === 'POST') return putToSession(ctx, req, res, ctx.sessions.get(sessionId));
    if (req.method === 'DELETE') {
      ctx.sessions.cancel(sessionId);
      // GCS answers a cancelled session with 499 "Client Closed Request".
      return sendJson(res, 499, {});
    }
    throw badRequest(`Method ${req.method} is not allowed on an upload session.`);
  }
  if (req.method !== 'POST') throw badRequest(`Method ${req.method} is not allowed on the upload endpoint.`);
  const conditions = preconditionsOf(query);
  const uploadType = query.get('uploadType');
  if (uploadType === 'media') {
    const name = requireName(query.get('name'));
    const data = await readBody(req);
    const object = ctx.objects.put(bucket, name, { contentType: req.headers['content-type'], data }, conditions);
    return sendJson(res, 200, objectResource(object, ctx.baseUrl));
  }
  if (uploadType === 'multipart') {
    const upload = parseMultipartRelated(req.headers['content-type'], await readBody(req));
    const name = requireName(query.get('name') ?? stringOf(upload.metadata['name']));
    const contentType = upload.contentType ?? stringOf(upload.metadata['contentType']);
    const metadata = customMetadataOf(upload.metadata);
    const object = ctx.objects.put(bucket, name, { contentType, data: upload.media, metadata }, conditions);
    return sendJson(res, 200, objectResource(object, ctx.baseUrl));
  }
  if (uploadType === 'resumable') {
    const body = await readBody(req);
    const resource = body.length > 0 ? (JSON.parse(body.toString('utf8')) as Record<string, unknown>) : {};
    const declared = req.headers['x-upload-content-length'];
    const session = ctx.sessions.create({
      bucket,
      name: requireName(query.get('name') ?? stringOf(resource['name'])),
      contentType: headerOf(req, 'x-upload-content-type') ?? stringOf(resource['contentType']),
      metadata: customMetadataOf(resource),
      conditions,
      total: typeof declared === 'string' ? Number(declared) : undefined,
    });
    const location = `${ctx.baseUrl}/upload/storage/v1/b/${encodeURIComponent(bucket)}/o?uploadType=resumable&name=${encodeURIComponent(session.name)}&upload_id=${session.id}`;
    res.writeHead(200, { Location: location, 'Content-Length': 0 });
    res.end();
    return;
  }
  throw badRequest(`Unsupported uploadType: ${uploadType ?? '(none)'}`);
}

async function putToSession(
  ctx: UploadContext,
  req: IncomingMessage,
  res: ServerResponse,
  session: ResumableSession,
): Promise<void> {
  const range = parseContentRange(headerOf(req, 'content-range'));
  // The body is taken only once it has fully arrived: an aborted PUT adds nothing.
  const body = await readBody(req);
  if (range.kind === 'query') ctx.sessions.settleTotal(session, range.total);
  else ctx.sessions.append(session, range, body);
  if (session.result) return sendJson(res, 200, objectResource(session.result, ctx.baseUrl));
  // 308 "Resume Incomplete": Range tells how much is persisted (absent when nothing is).
  const headers: Record<string, string | number> = { 'Content-Length': 0 };
  if (session.received > 0) headers['Range'] = `bytes=0-${session.received - 1}`;
  res.writeHead(308, headers);
  res.end();
}

function requireName(name: string | null | undefined): string {
  if (!name) throw badRequest('Required parameter: name');
  return name;
}

function stringOf(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

function headerOf(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}
