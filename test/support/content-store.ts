/**
 * Starts a real content store on port 0 for integration tests (on
 * PostgreSQL or PGlite, with a temporary data folder and a controllable
 * clock), and small promise wrappers around the generated client.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { credentials, Metadata, type ServiceError } from '@grpc/grpc-js';
import { content } from '@griot/proto';
import { silentLogger } from '@griot/server-kit';
import { decodeStatusDetails } from '@griot/client';
import { readContentStoreConfig, startContentStore, type ContentStoreOverrides, type RunningContentStore } from '../../services/content-store/src';
import { createPostgresDatabase, type DbKind } from './database';
import { callerInterceptor, CONTENT_AUDIENCE, newIdentity, unary as promiseOf, type Identity } from './fixtures';

/** A content store started for a test suite. */
export interface TestContentStore {
  /** The running service. */
  service: RunningContentStore;
  /** A client connected to it, sending caller tokens of {@link TestContentStore.writer} (unless a call brings its own). */
  client: content.ContentServiceClient;
  /** The identity of `client`'s calls. */
  writer: Identity;
  /** Another client, sending tokens of `identity`, or none at all when undefined; closed with the store. */
  clientAs(identity: Identity | undefined): content.ContentServiceClient;
  /** The data folder (file blobs live under `<dataDir>/content-store/blobs`). */
  dataDir: string;
  /** Moves the service's clock forward. */
  advance(ms: number): void;
  /** Stops the service and removes its database and data. */
  close(): Promise<void>;
}

/** Starts a content store on a fresh database of the kind. */
export async function startTestContentStore(
  kind: DbKind,
  env: Record<string, string> = {},
  overrides: ContentStoreOverrides = {},
): Promise<TestContentStore> {
  const dataDir = await mkdtemp(join(tmpdir(), 'griot-content-'));
  const pg = kind === 'postgres' ? await createPostgresDatabase() : undefined;
  let shift = 0;
  const config = readContentStoreConfig({
    CONTENT_LISTEN: '127.0.0.1:0',
    GRIOT_DATA_DIR: dataDir,
    GRIOT_EMBEDDED_DATABASE: 'pglite',
    ...(pg ? { CONTENT_DATABASE_URL: pg.url } : {}),
    ...env,
  });
  const service = await startContentStore(config, silentLogger(), { manualSweep: true, clock: () => new Date(Date.now() + shift), ...overrides });
  const audience = env['CONTENT_TOKEN_AUDIENCE'] ?? CONTENT_AUDIENCE;
  const clients: content.ContentServiceClient[] = [];
  const clientAs = (identity: Identity | undefined) => {
    const made = new content.ContentServiceClient(service.address, credentials.createInsecure(), {
      'grpc.max_receive_message_length': 64 * 1024 * 1024,
      'grpc.max_send_message_length': 64 * 1024 * 1024,
      interceptors: identity ? [callerInterceptor(identity, audience)] : [],
    });
    clients.push(made);
    return made;
  };
  const writer = newIdentity();
  const client = clientAs(writer);
  return {
    service,
    client,
    writer,
    clientAs,
    dataDir,
    advance(ms) {
      shift += ms;
    },
    async close() {
      for (const c of clients) c.close();
      await service.stop(1000);
      await pg?.drop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** SHA-256 hex of bytes. */
export function sha256(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Deterministic pseudo-random bytes. */
export function bytesOf(size: number, seed = 1): Buffer {
  const out = Buffer.alloc(size);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < size; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

/** Splits bytes into upload messages of `chunk` bytes from `offset`, the first with `start`, the last with finish_write. */
export function uploadMessages(
  data: Buffer,
  start: Partial<content.UploadStart> | undefined,
  options: { chunk?: number; offset?: number; finish?: boolean } = {},
): content.UploadBlobRequest[] {
  const chunk = options.chunk ?? 64 * 1024;
  const base = options.offset ?? 0;
  const out: content.UploadBlobRequest[] = [];
  for (let at = 0; at < data.length || out.length === 0; at += chunk) {
    out.push({ start: undefined, offset: base + at, data: data.subarray(at, at + chunk), finishWrite: false });
    if (data.length === 0) break;
  }
  if (start) out[0]!.start = { uploadId: '', storageName: '', sha256: '', ...start };
  if (options.finish !== false) out[out.length - 1]!.finishWrite = true;
  return out;
}

/** Sends messages on one UploadBlob stream and resolves with the response. */
export function upload(client: content.ContentServiceClient, messages: content.UploadBlobRequest[]): Promise<content.UploadBlobResponse> {
  return new Promise((resolve, reject) => {
    const call = client.uploadBlob((err, res) => (err ? reject(err) : resolve(res!)));
    void (async () => {
      for (const m of messages) {
        if (!call.write(m)) await new Promise((r) => call.once('drain', r));
      }
      call.end();
    })();
  });
}

/** The unary methods of ContentService, with their request and response types. */
export interface ContentUnaryMethods {
  getUploadStatus: [content.GetUploadStatusRequest, content.GetUploadStatusResponse];
  findMissingBlobs: [content.FindMissingBlobsRequest, content.FindMissingBlobsResponse];
  getBlob: [content.GetBlobRequest, content.GetBlobResponse];
  createManifest: [content.CreateManifestRequest, content.CreateManifestResponse];
  getManifest: [content.GetManifestRequest, content.GetManifestResponse];
  listManifests: [content.ListManifestsRequest, content.ListManifestsResponse];
  deleteManifest: [content.DeleteManifestRequest, content.DeleteManifestResponse];
}

/** Calls a unary method as a promise. */
export function unary<K extends keyof ContentUnaryMethods>(
  client: content.ContentServiceClient,
  method: K,
  request: ContentUnaryMethods[K][0],
): Promise<ContentUnaryMethods[K][1]> {
  type Callback = (err: ServiceError | null, res: ContentUnaryMethods[K][1]) => void;
  const fn = client[method] as unknown as (req: ContentUnaryMethods[K][0], metadata: Metadata, callback: Callback) => unknown;
  return promiseOf((req: ContentUnaryMethods[K][0], metadata: Metadata, callback: Callback) => fn.call(client, req, metadata, callback), request);
}

/** Reads a ReadContent stream: every message, and the error it ended with, if any. */
export function readAll(client: content.ContentServiceClient, request: Partial<content.ReadContentRequest>): Promise<{ messages: content.ReadContentResponse[]; data: Buffer; error?: ServiceError }> {
  return new Promise((resolve) => {
    const messages: content.ReadContentResponse[] = [];
    const call = client.readContent({ target: undefined, offset: 0, limit: 0, ...request });
    call.on('data', (m: content.ReadContentResponse) => messages.push(m));
    const done = (error?: ServiceError) => resolve({ messages, data: Buffer.concat(messages.map((m) => m.data)), error });
    call.on('error', (err: ServiceError) => done(err));
    call.on('end', () => done());
  });
}

/** The code, ErrorInfo reason and message of a failed call. */
export function failure(err: unknown): { code: number; reason?: string; message: string; metadata: Record<string, string> } {
  const e = err as ServiceError;
  const details = decodeStatusDetails(e.metadata);
  return { code: e.code, reason: details.reason, message: e.details, metadata: { ...details.metadata } };
}

/** Awaits a promise that must fail, and returns {@link failure} of its error. */
export async function expectFailure(promise: Promise<unknown>): Promise<ReturnType<typeof failure>> {
  try {
    await promise;
  } catch (err) {
    return failure(err);
  }
  throw new Error('expected the call to fail, but it succeeded');
}
