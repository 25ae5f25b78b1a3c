/**
 * The hostile-input corpus (corpus.json, described in README.md) and how one
 * of its cases is sent: placeholders filled from what the suite seeded, JSON
 * requests encoded with the generated messages, deep Structs hand-encoded,
 * then the bytes sent through a raw gRPC client or a raw HTTP/2 stream.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Metadata, status } from '@grpc/grpc-js';
import { content, registry } from '@griot/proto';
import { deepStruct, frame, lenField, rawHttp2, type Outcome, type RawClient, type StreamStep } from './wire';

/** The services the corpus attacks. */
export type ServiceName = 'content' | 'registry';

/** One step of a client-stream script in the corpus. */
export type CorpusStep = { hex: string } | { request: Record<string, unknown> } | { waitMs: number } | { end: true } | { cancel: true };

/** How a case is sent. */
export type CorpusSend =
  | { hex: string }
  | { request: Record<string, unknown>; deep?: { path: number[]; depth: number; parents?: { type: string; json: Record<string, unknown> }[] } }
  | { stream: CorpusStep[] }
  | { http2: { hex?: string; request?: Record<string, unknown>; headers?: Record<string, string>; keepOpen?: boolean } };

/** One hostile case. */
export interface HostileCase {
  /** `<service>.<Method>.<category>.<variant>`, unique. */
  id: string;
  /** What kind of hostility it is. */
  category: string;
  service: ServiceName;
  /** The RPC's name, as in the .proto file. */
  method: string;
  /** What the case sends, in words. */
  note?: string;
  /**
   * Send a fresh caller token of the seeded node (registry) or author
   * (content store); `replayed`: send the case twice with one token, and
   * check the second answer.
   */
  auth?: boolean | 'replayed';
  /** A client deadline this many milliseconds after the call starts. */
  deadlineMs?: number;
  /** Extra request headers: `count` (default 1) of `bytes` bytes each. */
  metadata?: { key: string; bytes: number; count?: number };
  send: CorpusSend;
  /** Tables the case may change, where the contract says so (an interrupted upload keeps its record). */
  writes?: string[];
  /** The gRPC code name (alternatives as `A|B`), the ErrorInfo reason when ours, and `empty` for list answers that must match nothing. */
  expect: { code: string; reason?: string; empty?: boolean };
}

/** Every case of corpus.json. */
export function loadCorpus(): HostileCase[] {
  const raw = JSON.parse(readFileSync(join(__dirname, 'corpus.json'), 'utf8')) as { cases: HostileCase[] };
  return raw.cases;
}

/** What the suite seeded, by placeholder name (`$NAME` in the corpus); a function makes a new value at each use (tokens). */
export type Seeds = Record<string, unknown>;

const SERVICES = {
  content: { module: content as unknown as Record<string, unknown>, definition: content.ContentServiceService as Record<string, MethodInfo>, prefix: '/griot.content.v1.ContentService/' },
  registry: { module: registry as unknown as Record<string, unknown>, definition: registry.RegistryServiceService as Record<string, MethodInfo>, prefix: '/griot.registry.v1.RegistryService/' },
};

interface MethodInfo {
  path: string;
  requestStream: boolean;
  responseStream: boolean;
}

interface MessageFns {
  fromJSON(o: unknown): unknown;
  encode(m: unknown): { finish(): Uint8Array };
  decode(b: Uint8Array): unknown;
}

function messageType(service: ServiceName, name: string): MessageFns {
  const fns = SERVICES[service].module[name] as MessageFns | undefined;
  if (!fns?.fromJSON) throw new Error(`no message ${name} in the ${service} contract`);
  return fns;
}

/** The method's definition entry. */
export function methodInfo(c: HostileCase): MethodInfo {
  const key = c.method[0]!.toLowerCase() + c.method.slice(1);
  const info = SERVICES[c.service].definition[key];
  if (!info) throw new Error(`${c.id}: no method ${c.method} in the ${c.service} service`);
  return info;
}

/** Replaces `$NAME` strings by seeded values (`$FRESH_UUID` is new each time, `$STRING_<n>` is n letters). */
export function fill(value: unknown, seeds: Seeds): unknown {
  if (typeof value === 'string' && /^\$[A-Z0-9_]+$/.test(value)) {
    const name = value.slice(1);
    if (name === 'FRESH_UUID') return randomUUID();
    // `$STRING_<n>`: n ASCII letters, for values just past a size limit without spelling them out.
    const length = /^STRING_(\d+)$/.exec(name)?.[1];
    if (length !== undefined) return 'x'.repeat(Number(length));
    if (!(name in seeds)) throw new Error(`the corpus names $${name}, which the suite did not seed`);
    const seeded = seeds[name];
    return typeof seeded === 'function' ? (seeded as () => unknown)() : seeded;
  }
  if (Array.isArray(value)) return value.map((v) => fill(v, seeds));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, fill(v, seeds)]));
  }
  return value;
}

function encode(service: ServiceName, type: string, json: Record<string, unknown>, seeds: Seeds): Buffer {
  const fns = messageType(service, type);
  return Buffer.from(fns.encode(fns.fromJSON(fill(json, seeds))).finish());
}

function requestBytes(c: HostileCase, send: { request: Record<string, unknown>; deep?: { path: number[]; depth: number; parents?: { type: string; json: Record<string, unknown> }[] } }, seeds: Seeds): Buffer {
  const base = encode(c.service, `${c.method}Request`, send.request, seeds);
  if (!send.deep) return base;
  // From the inside out: the deep Struct, wrapped in each parent message, appended to the request.
  const { path, depth, parents = [] } = send.deep;
  let payload = deepStruct(depth);
  for (let j = path.length - 1; j >= 0; j--) {
    const host = j === 0 ? base : encode(c.service, parents[j - 1]!.type, parents[j - 1]!.json, seeds);
    payload = Buffer.concat([host, lenField(path[j]!, payload)]);
  }
  return payload;
}

/** Sends one case; resolves with what the service answered (to the second send of a `replayed` case). */
export async function sendCase(c: HostileCase, targets: { address: Record<ServiceName, string>; client: Record<ServiceName, RawClient> }, seeds: Seeds): Promise<Outcome> {
  if (!c.auth) return sendOnce(c, targets, seeds, undefined);
  // The registry's cases act as the seeded node, the content store's as the seeded author.
  const token = String(fill(c.service === 'content' ? '$CONTENT_TOKEN' : '$NODE_TOKEN', seeds));
  if (c.auth === 'replayed') await sendOnce(c, targets, seeds, token);
  return sendOnce(c, targets, seeds, token);
}

async function sendOnce(c: HostileCase, targets: { address: Record<ServiceName, string>; client: Record<ServiceName, RawClient> }, seeds: Seeds, token: string | undefined): Promise<Outcome> {
  const info = methodInfo(c);
  const metadata = new Metadata();
  if (token !== undefined) metadata.set('authorization', token);
  const extra = c.metadata?.count ?? 1;
  for (let i = 0; c.metadata && i < extra; i++) metadata.set(extra === 1 ? c.metadata.key : `${c.metadata.key}-${i}`, 'a'.repeat(c.metadata.bytes));
  const deadline = c.deadlineMs === undefined ? undefined : new Date(Date.now() + c.deadlineMs);
  const client = targets.client[c.service];
  const send = c.send;
  if ('http2' in send) {
    const body = send.http2.request ? frame(requestBytes(c, { request: send.http2.request }, seeds)) : Buffer.from(send.http2.hex ?? '', 'hex');
    const headers = fill(send.http2.headers ?? {}, seeds) as Record<string, string>;
    return rawHttp2(targets.address[c.service], info.path, body, { headers, keepOpen: send.http2.keepOpen });
  }
  if ('stream' in send) {
    if (!info.requestStream) throw new Error(`${c.id}: ${c.method} takes no stream`);
    const steps: StreamStep[] = send.stream.map((s) => {
      if ('hex' in s) return { bytes: Buffer.from(s.hex, 'hex') };
      if ('request' in s) return { bytes: requestBytes(c, { request: s.request }, seeds) };
      return s;
    });
    return client.clientStream(info.path, steps, metadata, deadline);
  }
  const body = 'hex' in send ? Buffer.from(send.hex, 'hex') : requestBytes(c, send, seeds);
  if (info.requestStream) return client.clientStream(info.path, [{ bytes: body }, { end: true }], metadata, deadline);
  if (info.responseStream) return client.serverStream(info.path, body, metadata, deadline);
  return client.unary(info.path, body, metadata, deadline);
}

/** The code names a case may expect. */
export function expectedCodes(c: HostileCase): status[] {
  return c.expect.code.split('|').map((name) => {
    const code = (status as unknown as Record<string, status>)[name];
    if (code === undefined) throw new Error(`${c.id}: unknown gRPC code ${name}`);
    return code;
  });
}

/** True when an OK list answer holds no item (packages, manifests, installations or missing digests). */
export function isEmptyAnswer(c: HostileCase, outcome: Outcome): boolean {
  if (outcome.responses.length === 0) return true;
  const decoded = messageType(c.service, `${c.method}Response`).decode(outcome.responses[0]!) as Record<string, unknown>;
  return Object.values(decoded).every((v) => !Array.isArray(v) || v.length === 0);
}
