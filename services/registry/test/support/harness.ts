/**
 * Helpers of the registry's integration tests: a stub content store, signed
 * manifests, node tokens, a registry started on port 0 against a test
 * database, and promise wrappers of the generated client.
 */
import { createHash, randomBytes } from 'node:crypto';
import { credentials, Metadata, Server, ServerCredentials, status, type CallOptions, type ServiceError } from '@grpc/grpc-js';
import { createCallerToken, didFromKeyPair, generateKeyPair, signDocument, verifyCallerToken, type Ed25519KeyPair } from '@griot/did';
import { content, registry } from '@griot/proto';
import { silentLogger } from '@griot/server-kit';
import { readRegistryConfig, startRegistry, type RegistryOverrides, type RunningRegistry } from '../../src';
import { createPostgresDatabase, type DbKind } from '@griot/test/support/database';
import { unary } from '@griot/test/support/fixtures';

/** One GetBlob call the stub received. */
export interface StubCall {
  /** The digest asked for. */
  sha256: string;
  /** The x-request-id it carried. */
  requestId: string | undefined;
  /** Whether the caller set a deadline. */
  hadDeadline: boolean;
  /** The DID of the caller token it carried (audience griot-content), or undefined without a valid one. */
  callerDid: string | undefined;
}

/** One CreateManifest call the stub received. */
export interface StubManifestCall {
  /** The manifest id asked for. */
  manifestId: string;
  /** The digest of its one content. */
  sha256: string;
  /** Its tags. */
  tags: Record<string, unknown>;
  /** The DID of the caller token it carried, if valid. */
  callerDid: string | undefined;
  /** Whether the stub answered already_existed. */
  alreadyExisted: boolean;
}

/**
 * A stub content store: answers GetBlob from a map of digest → size, and
 * CreateManifest (the registry keeping its artifacts) by recording the
 * manifest id, answering already_existed for an id it holds.
 */
export interface StubContentStore {
  /** `host:port`. */
  address: string;
  /** Digest → size of the blobs it "holds". */
  blobs: Map<string, number>;
  /** The GetBlob calls received. */
  calls: StubCall[];
  /** Manifest id → digest of the manifests it "holds" (delete one to play an operator's deletion). */
  manifests: Map<string, string>;
  /** The CreateManifest calls received. */
  manifestCalls: StubManifestCall[];
  /** Stops it. */
  stop(): Promise<void>;
}

function callerOf(metadata: Metadata): string | undefined {
  const value = metadata.get('authorization')[0];
  if (typeof value !== 'string') return undefined;
  try {
    return verifyCallerToken(value.replace(/^Bearer +/i, ''), { audience: 'griot-content' }).did;
  } catch {
    return undefined;
  }
}

/** Starts a stub content store implementing GetBlob and CreateManifest. */
export async function stubContentStore(): Promise<StubContentStore> {
  const blobs = new Map<string, number>();
  const calls: StubCall[] = [];
  const manifests = new Map<string, string>();
  const manifestCalls: StubManifestCall[] = [];
  const server = new Server();
  server.addService(content.ContentServiceService, {
    createManifest(call: { request: content.CreateManifestRequest; metadata: Metadata }, callback: (err: Partial<ServiceError> | null, res?: content.CreateManifestResponse) => void) {
      const source = call.request.contents[0]?.source;
      const sha256 = source?.$case === 'blobSha256' ? source.blobSha256 : '';
      const callerDid = callerOf(call.metadata);
      const alreadyExisted = manifests.has(call.request.manifestId);
      manifestCalls.push({ manifestId: call.request.manifestId, sha256, tags: (call.request.tags ?? {}) as Record<string, unknown>, callerDid, alreadyExisted });
      if (!callerDid) return callback({ code: status.UNAUTHENTICATED, details: 'no valid caller token' });
      const size = blobs.get(sha256);
      if (size === undefined) return callback({ code: status.FAILED_PRECONDITION, details: `no blob ${sha256}` });
      manifests.set(call.request.manifestId, sha256);
      return callback(null, {
        manifest: content.Manifest.fromPartial({
          id: call.request.manifestId,
          classId: call.request.classId,
          creatorDid: callerDid,
          contents: [{ contentKey: 'artifact', contentHash: sha256, contentSize: size }],
        }),
        alreadyExisted,
      });
    },
    getBlob(call: { request: content.GetBlobRequest; metadata: Metadata; getDeadline(): Date | number }, callback: (err: Partial<ServiceError> | null, res?: content.GetBlobResponse) => void) {
      const deadline = call.getDeadline();
      calls.push({
        sha256: call.request.sha256,
        requestId: call.metadata.get('x-request-id')[0] as string | undefined,
        hadDeadline: deadline instanceof Date || Number.isFinite(deadline),
        callerDid: callerOf(call.metadata),
      });
      const size = blobs.get(call.request.sha256);
      if (size === undefined) callback({ code: status.NOT_FOUND, details: `blob ${call.request.sha256} not found` });
      else callback(null, { blob: { sha256: call.request.sha256, size, storageName: 'griot.file@v1', storageConfig: {}, createdAt: new Date() } });
    },
  } as never);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  return {
    address: `127.0.0.1:${port}`,
    blobs,
    calls,
    manifests,
    manifestCalls,
    stop: () => new Promise((resolve) => server.tryShutdown(() => resolve())),
  };
}

/** An identity: key pair and did:key. */
export interface Identity {
  /** The key pair. */
  keyPair: Ed25519KeyPair;
  /** The did:key. */
  did: string;
}

/** A fresh identity. */
export function newIdentity(): Identity {
  const keyPair = generateKeyPair();
  return { keyPair, did: didFromKeyPair(keyPair) };
}

/** What a test package is made of. */
export interface PackageSpec {
  /** Name. */
  name: string;
  /** Version. */
  version: string;
  /** Dependencies. */
  dependencies?: Record<string, string>;
  /** Node class. */
  nodeClass?: string;
  /** Extra manifest fields. */
  extra?: Record<string, unknown>;
}

/** A signed test package: id, manifest and artifact size. */
export interface SignedPackage {
  /** SHA-256 of the (random) artifact. */
  packageId: string;
  /** The signed manifest. */
  manifest: Record<string, unknown>;
  /** The artifact size. */
  size: number;
}

/** Makes and signs a manifest for a random artifact. */
export function signedPackage(author: Identity, spec: PackageSpec): SignedPackage {
  const artifact = randomBytes(64 + Math.floor(Math.random() * 64));
  const packageId = createHash('sha256').update(artifact).digest('hex');
  const unsigned = {
    name: spec.name,
    version: spec.version,
    nodeClass: spec.nodeClass ?? 'worker',
    dependencies: spec.dependencies ?? {},
    artifact: { digest: `sha256:${packageId}`, size: artifact.length, mediaType: 'application/gzip' },
    author: author.did,
    ...spec.extra,
  };
  return { packageId, manifest: signDocument(unsigned, { keyPair: author.keyPair }), size: artifact.length };
}

/** Metadata carrying a caller token (of a node, an operator, an author). */
export function callerMetadata(caller: Identity, options: { audience?: string; ttlSeconds?: number; now?: Date } = {}): Metadata {
  const m = new Metadata();
  m.set('authorization', `Bearer ${createCallerToken({ keyPair: caller.keyPair, audience: options.audience ?? 'griot-registry', ttlSeconds: options.ttlSeconds, now: options.now })}`);
  return m;
}

/** Metadata carrying a node token: a node's caller token. */
export const nodeMetadata = callerMetadata;

/** A registry under test with its client. */
export interface TestRegistry {
  /** The running registry. */
  registry: RunningRegistry;
  /** A client to it. */
  client: registry.RegistryServiceClient;
  /** The stub content store it talks to. */
  store: StubContentStore;
  /** An operator (in REGISTRY_OPERATORS, with any operators the test's env names). */
  operator: Identity;
  /** Stops everything (and drops the database when it made one). */
  stop(): Promise<void>;
}

/** Options of {@link startTestRegistry}. */
export interface TestRegistryOptions {
  /** Environment variables on top of the test defaults. */
  env?: Record<string, string>;
  /** A PostgreSQL URL to use (for replicas sharing a database). */
  databaseUrl?: string;
  /** A content store stub to share. */
  store?: StubContentStore;
  /** Overrides passed to startRegistry. */
  overrides?: RegistryOverrides;
}

/** Starts a registry on port 0 on a fresh database of `kind`. */
export async function startTestRegistry(kind: DbKind, options: TestRegistryOptions = {}): Promise<TestRegistry> {
  const store = options.store ?? (await stubContentStore());
  let drop: (() => Promise<void>) | undefined;
  let url = options.databaseUrl;
  if (kind === 'postgres' && !url) {
    const created = await createPostgresDatabase();
    url = created.url;
    drop = created.drop;
  }
  const operator = newIdentity();
  const config = {
    ...readRegistryConfig({
      REGISTRY_LISTEN: '127.0.0.1:0',
      CONTENT_STORE_ADDR: store.address,
      REGISTRY_LEASE_DURATION: '5m', // no test outlives it on a loaded machine; tests of expiry set their own
      REGISTRY_LEASE_SWEEP_INTERVAL: '100ms',
      REGISTRY_LOG_FLUSH_INTERVAL: '20ms',
      REGISTRY_CONTENT_DEADLINE: '2s',
      LOG_LEVEL: 'silent',
      ...options.env,
      REGISTRY_OPERATORS: [operator.did, options.env?.['REGISTRY_OPERATORS'] ?? ''].filter((d) => d !== '').join(','),
    }),
    REGISTRY_DATABASE_URL: url,
    GRIOT_DATA_DIR: ':memory:',
  };
  const running = await startRegistry(config, silentLogger(), options.overrides);
  const client = new registry.RegistryServiceClient(running.address, credentials.createInsecure());
  return {
    registry: running,
    client,
    store,
    operator,
    async stop() {
      client.close();
      await running.stop(1000);
      if (!options.store) await store.stop();
      await drop?.();
    },
  };
}

/** The request and response of a generated unary method, read off its last overload (request, metadata, options, callback). */
type LastOverload<Req, Res> = (req: Req, metadata: Metadata, options: Partial<CallOptions>, callback: (err: ServiceError | null, res: Res) => void) => unknown;
type RequestOf<M> = M extends LastOverload<infer Req, unknown> ? Req : never;
type ResponseOf<M> = M extends LastOverload<never, infer Res> ? Res : never;

/** Calls a unary method of a client as a promise (fields left out of `request` take their defaults). */
export function call<M extends LastOverload<never, unknown>>(client: registry.RegistryServiceClient, method: M, request: Partial<RequestOf<M>>, metadata = new Metadata()): Promise<ResponseOf<M>> {
  const fn = method as unknown as LastOverload<Partial<RequestOf<M>>, ResponseOf<M>>;
  return unary((req: Partial<RequestOf<M>>, md: Metadata, callback: (err: ServiceError | null, res: ResponseOf<M>) => void) => fn.call(client, req, md, {}, callback), request, metadata);
}

/** Awaits a call that must fail, and answers its error. */
export async function failure(promise: Promise<unknown>): Promise<ServiceError> {
  try {
    await promise;
  } catch (err) {
    return err as ServiceError;
  }
  throw new Error('expected the call to fail');
}

/** Sends report messages on one stream and answers the response. */
export function report(
  client: registry.RegistryServiceClient,
  metadata: Metadata,
  messages: Partial<registry.ReportInstallationRequest>[],
): Promise<registry.ReportInstallationResponse> {
  return new Promise((resolve, reject) => {
    const stream = client.reportInstallation(metadata, (err, res) => (err ? reject(err) : resolve(res)));
    for (const m of messages) stream.write(registry.ReportInstallationRequest.fromPartial(m));
    stream.end();
  });
}

/** Collects a watch (made with the caller token in `metadata`) until it ends. */
export function watchAll(client: registry.RegistryServiceClient, request: Partial<registry.WatchInstallationRequest>, metadata: Metadata): Promise<registry.WatchInstallationResponse[]> {
  return new Promise((resolve, reject) => {
    const out: registry.WatchInstallationResponse[] = [];
    const stream = client.watchInstallation(registry.WatchInstallationRequest.fromPartial(request), metadata);
    stream.on('data', (m: registry.WatchInstallationResponse) => out.push(m));
    stream.on('error', reject);
    stream.on('end', () => resolve(out));
  });
}

/** Polls until `check` answers a value, or fails after `timeoutMs`. */
export async function eventually<T>(check: () => Promise<T | undefined>, timeoutMs = 10_000, everyMs = 50): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export { status as Status };
