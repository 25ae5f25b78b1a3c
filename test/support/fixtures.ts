/**
 * What tests need to drive the two services the way the CLI and an agent do:
 * upload bytes, publish a signed package, create a job as a node, and play
 * the node's agent (claim, report lines, finish).
 */
import { createHash, randomUUID } from 'node:crypto';
import { credentials, InterceptingCall, Metadata, type Interceptor, type ServiceError } from '@grpc/grpc-js';
import { createCallerToken, didFromKeyPair, generateKeyPair, signDocument, type Ed25519KeyPair } from '@griot/did';
import { content, registry } from '@griot/proto';

/** The audience the registry expects in caller tokens by default. */
export const REGISTRY_AUDIENCE = 'griot-registry';

/** The audience the content store expects in caller tokens by default. */
export const CONTENT_AUDIENCE = 'griot-content';

/** A key pair with its did:key. */
export interface Identity {
  keyPair: Ed25519KeyPair;
  did: string;
}

/** Makes a new Ed25519 identity. */
export function newIdentity(): Identity {
  const keyPair = generateKeyPair();
  return { keyPair, did: didFromKeyPair(keyPair) };
}

/** Metadata carrying a fresh caller token of `identity` for the audience (the registry's by default). */
export function callerAuth(identity: Identity, audience = REGISTRY_AUDIENCE): Metadata {
  const metadata = new Metadata();
  metadata.set('authorization', `Bearer ${createCallerToken({ keyPair: identity.keyPair, audience })}`);
  return metadata;
}

/** Metadata carrying a fresh node token for `identity`: a node's caller token. */
export const nodeAuth = callerAuth;

/**
 * A client interceptor that sends a fresh caller token of `identity` on
 * every call that carries no authorization of its own.
 */
export function callerInterceptor(identity: Identity, audience: string): Interceptor {
  return (options, nextCall) =>
    new InterceptingCall(nextCall(options), {
      start(metadata, listener, next) {
        if (metadata.get('authorization').length === 0) {
          metadata.set('authorization', `Bearer ${createCallerToken({ keyPair: identity.keyPair, audience })}`);
        }
        next(metadata, listener);
      },
    });
}

/** Calls a unary method of a generated client as a promise. */
export function unary<Req, Res>(
  method: (req: Req, metadata: Metadata, callback: (err: ServiceError | null, res: Res) => void) => unknown,
  request: Req,
  metadata = new Metadata(),
): Promise<Res> {
  return new Promise((resolve, reject) => method(request, metadata, (err, res) => (err ? reject(err) : resolve(res))));
}

/** Uploads bytes to the content store in chunks, as `uploader` (its caller token); resolves with the sha256. */
export async function uploadBytes(client: content.ContentServiceClient, bytes: Buffer, uploader: Identity, chunkSize = 64 * 1024): Promise<string> {
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  await new Promise<content.UploadBlobResponse>((resolve, reject) => {
    const call = client.uploadBlob(callerAuth(uploader, CONTENT_AUDIENCE), (err, res) => (err ? reject(err) : resolve(res!)));
    let offset = 0;
    do {
      const data = bytes.subarray(offset, offset + chunkSize);
      const finishWrite = offset + data.length >= bytes.length;
      call.write({
        start: offset === 0 ? { uploadId: randomUUID(), storageName: '', sha256, size: bytes.length } : undefined,
        offset,
        data,
        finishWrite,
      });
      offset += data.length;
    } while (offset < bytes.length);
    call.end();
  });
  return sha256;
}

/** What a test package is made of. */
export interface TestPackageSpec {
  name: string;
  version: string;
  nodeClass?: string;
  dependencies?: Record<string, string>;
  /** The artifact's bytes (default: some bytes made from name and version). */
  artifact?: Buffer;
}

/** Uploads an artifact as the author and registers its signed package; resolves with the package. */
export async function publishTestPackage(
  clients: { content: content.ContentServiceClient; registry: registry.RegistryServiceClient },
  author: Identity,
  spec: TestPackageSpec,
): Promise<registry.Package> {
  const artifact = spec.artifact ?? Buffer.from(`artifact of ${spec.name}@${spec.version}\n`.repeat(100));
  const sha256 = await uploadBytes(clients.content, artifact, author);
  const manifest = signDocument(
    {
      name: spec.name,
      version: spec.version,
      nodeClass: spec.nodeClass ?? 'worker',
      dependencies: spec.dependencies ?? {},
      artifact: { digest: `sha256:${sha256}`, size: artifact.length, mediaType: 'application/gzip' },
      author: author.did,
    },
    { keyPair: author.keyPair },
  );
  const res = await unary<registry.RegisterPackageRequest, registry.RegisterPackageResponse>(clients.registry.registerPackage.bind(clients.registry), { packageId: sha256, manifest, artifactUrl: '' });
  return res.package!;
}

/** Generated clients of both services at the given addresses. */
export function connect(addresses: { content: string; registry: string }) {
  return {
    content: new content.ContentServiceClient(addresses.content, credentials.createInsecure()),
    registry: new registry.RegistryServiceClient(addresses.registry, credentials.createInsecure()),
    close() {
      this.content.close();
      this.registry.close();
    },
  };
}

/** Plays a node's agent for one job: claims it, reports the lines in batches, then the final status. */
export async function runFakeAgent(
  client: registry.RegistryServiceClient,
  node: Identity,
  lines: string[],
  final: { status: registry.InstallationStatus; message?: string } = { status: registry.InstallationStatus.INSTALLATION_STATUS_COMPLETED },
  options: { batch?: number; delayMs?: number } = {},
): Promise<registry.Installation> {
  const claimed = await unary<registry.ClaimInstallationRequest, registry.ClaimInstallationResponse>(client.claimInstallation.bind(client), { waitMillis: 5000 }, nodeAuth(node));
  const job = claimed.installation;
  if (!job) throw new Error('no job to claim');
  const response = await new Promise<registry.ReportInstallationResponse>((resolve, reject) => {
    const call = client.reportInstallation(nodeAuth(node), (err, res) => (err ? reject(err) : resolve(res!)));
    const batch = options.batch ?? 10;
    let i = 0;
    const next = () => {
      if (i < lines.length) {
        call.write({ jobId: job.jobId, logLines: lines.slice(i, i + batch), status: 0, statusMessage: '' });
        i += batch;
        setTimeout(next, options.delayMs ?? 0);
        return;
      }
      call.write({ jobId: job.jobId, logLines: [], status: final.status, statusMessage: final.message ?? '' });
      call.end();
    };
    next();
  });
  return response.installation!;
}
