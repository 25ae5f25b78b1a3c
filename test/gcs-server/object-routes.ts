/**
 * The object endpoints of the JSON API under `/storage/v1/b/:bucket/o`:
 * list, metadata, media download (with `Range`), delete and compose.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { parseRangeHeader } from './byte-range';
import { badRequest } from './gcs-error';
import { optionalInteger, preconditionsOf, readBody, sendJson } from './http-io';
import { etag, objectResource } from './object-resource';
import type { ObjectTable, StoredObject } from './object-table';

/** The most source objects one compose request may name, as in GCS. */
export const MAX_COMPOSE_SOURCES = 32;

/** The most components a composite object may have, as in GCS. */
export const MAX_COMPONENT_COUNT = 1024;

/**
 * `GET /storage/v1/b/:bucket/o`: lists live objects by name with `prefix`,
 * `delimiter`, `maxResults` and `pageToken`.
 *
 * @param objects - The objects.
 * @param res - The response.
 * @param bucket - Bucket name.
 * @param query - Query parameters.
 * @param baseUrl - The server's origin.
 */
export function listObjects(
  objects: ObjectTable,
  res: ServerResponse,
  bucket: string,
  query: URLSearchParams,
  baseUrl: string,
): void {
  const prefix = query.get('prefix') ?? '';
  const delimiter = query.get('delimiter') ?? '';
  const maxResults = Math.min(optionalInteger(query, 'maxResults') ?? 1000, 1000) || 1000;
  const token = query.get('pageToken');
  const after = token ? Buffer.from(token, 'base64url').toString('utf8') : undefined;
  const items: StoredObject[] = [];
  const prefixes = new Set<string>();
  let last: string | undefined;
  let more = false;
  for (const object of objects.list(bucket)) {
    if (!object.name.startsWith(prefix) || (after !== undefined && object.name <= after)) continue;
    const cut = delimiter ? object.name.indexOf(delimiter, prefix.length) : -1;
    const entry = cut === -1 ? object.name : object.name.slice(0, cut + delimiter.length);
    if (cut !== -1 && prefixes.has(entry)) continue;
    if (items.length + prefixes.size === maxResults) {
      more = true;
      break;
    }
    if (cut === -1) items.push(object);
    else prefixes.add(entry);
    // A page token resumes after the last name (or the last prefix, which skips its objects).
    last = cut === -1 ? object.name : `${entry}\uffff`;
  }
  sendJson(res, 200, {
    kind: 'storage#objects',
    ...(items.length > 0 && { items: items.map((o) => objectResource(o, baseUrl)) }),
    ...(prefixes.size > 0 && { prefixes: [...prefixes] }),
    ...(more && last !== undefined && { nextPageToken: Buffer.from(last, 'utf8').toString('base64url') }),
  });
}

/**
 * `GET /storage/v1/b/:bucket/o/:object`: the object resource, or with
 * `alt=media` its bytes (206 for a `Range`).
 *
 * @param objects - The objects.
 * @param req - The request.
 * @param res - The response.
 * @param bucket - Bucket name.
 * @param name - Object name.
 * @param query - Query parameters.
 * @param baseUrl - The server's origin.
 */
export function getObject(
  objects: ObjectTable,
  req: IncomingMessage,
  res: ServerResponse,
  bucket: string,
  name: string,
  query: URLSearchParams,
  baseUrl: string,
): void {
  const object = objects.get(bucket, name, optionalInteger(query, 'generation'));
  objects.check(bucket, name, preconditionsOf(query));
  if (query.get('alt') !== 'media') return sendJson(res, 200, objectResource(object, baseUrl));
  const range = parseRangeHeader(req.headers.range, object.data.length);
  const headers: Record<string, string | number> = {
    'Content-Type': object.contentType,
    ETag: etag(object),
    'x-goog-generation': String(object.generation),
    'x-goog-metageneration': '1',
    'x-goog-stored-content-encoding': 'identity',
    'x-goog-stored-content-length': String(object.data.length),
    'x-goog-hash': [`crc32c=${object.crc32c}`, ...(object.md5Hash ? [`md5=${object.md5Hash}`] : [])].join(','),
    'Accept-Ranges': 'bytes',
  };
  if (!range) {
    res.writeHead(200, { ...headers, 'Content-Length': object.data.length });
    res.end(object.data);
    return;
  }
  const body = object.data.subarray(range.start, range.end + 1);
  res.writeHead(206, {
    ...headers,
    'Content-Length': body.length,
    'Content-Range': `bytes ${range.start}-${range.end}/${object.data.length}`,
  });
  res.end(body);
}

/**
 * `DELETE /storage/v1/b/:bucket/o/:object`.
 *
 * @param objects - The objects.
 * @param res - The response.
 * @param bucket - Bucket name.
 * @param name - Object name.
 * @param query - Query parameters.
 */
export function deleteObject(
  objects: ObjectTable,
  res: ServerResponse,
  bucket: string,
  name: string,
  query: URLSearchParams,
): void {
  objects.delete(bucket, name, preconditionsOf(query));
  res.writeHead(204);
  res.end();
}

/**
 * `POST /storage/v1/b/:bucket/o/:object/compose`: concatenates up to 32
 * source objects into the destination, with the destination's preconditions.
 *
 * @param objects - The objects.
 * @param req - The request.
 * @param res - The response.
 * @param bucket - Bucket name.
 * @param name - Destination object name.
 * @param query - Query parameters.
 * @param baseUrl - The server's origin.
 */
export async function composeObject(
  objects: ObjectTable,
  req: IncomingMessage,
  res: ServerResponse,
  bucket: string,
  name: string,
  query: URLSearchParams,
  baseUrl: string,
): Promise<void> {
  const request = JSON.parse((await readBody(req)).toString('utf8') || '{}') as {
    destination?: { contentType?: string; metadata?: Record<string, string> };
    sourceObjects?: Array<{ name?: string; generation?: number | string }>;
  };
  const sources = request.sourceObjects ?? [];
  if (sources.length === 0) throw badRequest('You must provide at least one source object.');
  if (sources.length > MAX_COMPOSE_SOURCES) {
    throw badRequest(`The number of source components provided (${sources.length}) exceeds the maximum (${MAX_COMPOSE_SOURCES}).`);
  }
  const parts = sources.map((source) => {
    if (!source.name) throw badRequest('A source object has no name.');
    const generation = source.generation === undefined ? undefined : Number(source.generation);
    return objects.get(bucket, source.name, generation);
  });
  const componentCount = parts.reduce((n, p) => n + (p.componentCount ?? 1), 0);
  if (componentCount > MAX_COMPONENT_COUNT) {
    throw badRequest(`The composite object would have ${componentCount} components, more than ${MAX_COMPONENT_COUNT}.`);
  }
  const composed = objects.put(
    bucket,
    name,
    {
      contentType: request.destination?.contentType,
      data: Buffer.concat(parts.map((p) => p.data)),
      metadata: request.destination?.metadata,
      componentCount,
    },
    preconditionsOf(query),
  );
  sendJson(res, 200, objectResource(composed, baseUrl));
}
