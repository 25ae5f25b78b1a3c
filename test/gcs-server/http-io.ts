/**
 * Small helpers to read requests and write JSON API responses.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { badRequest } from './gcs-error';
import type { Preconditions } from './object-table';

/**
 * Reads a whole request body. Rejects if the client aborts the request, so a
 * half-sent body is never taken for a complete one.
 *
 * @param req - The request.
 */
export async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  if (!req.complete) throw new Error('request aborted');
  return Buffer.concat(chunks);
}

/**
 * Sends a JSON body.
 *
 * @param res - The response.
 * @param status - HTTP status.
 * @param body - Value to serialize.
 * @param headers - Extra headers.
 */
export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=UTF-8',
    'Content-Length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

/**
 * Reads `ifGenerationMatch` / `ifGenerationNotMatch` from the query string.
 *
 * @param query - The request's query parameters.
 */
export function preconditionsOf(query: URLSearchParams): Preconditions {
  return {
    ifGenerationMatch: optionalInteger(query, 'ifGenerationMatch'),
    ifGenerationNotMatch: optionalInteger(query, 'ifGenerationNotMatch'),
  };
}

/**
 * An optional non-negative integer query parameter.
 *
 * @param query - The request's query parameters.
 * @param name - Parameter name.
 * @throws GcsHttpError 400 when present but not an integer.
 */
export function optionalInteger(query: URLSearchParams, name: string): number | undefined {
  const raw = query.get(name);
  if (raw === null || raw === '') return undefined;
  if (!/^\d+$/.test(raw)) throw badRequest(`Invalid value for ${name}: ${raw}`);
  return Number(raw);
}

/**
 * Custom metadata (`metadata` of an object resource) as string pairs.
 *
 * @param resource - The object resource sent by the client.
 */
export function customMetadataOf(resource: Record<string, unknown>): Record<string, string> | undefined {
  const metadata = resource['metadata'];
  if (metadata === null || typeof metadata !== 'object') return undefined;
  return Object.fromEntries(Object.entries(metadata).map(([k, v]) => [k, String(v)]));
}
