/**
 * The registry's view of the content store: "do you hold these bytes?" and
 * "keep them for this package". Every call carries the registry's own caller
 * token (its did:key, audience CONTENT_STORE_TOKEN_AUDIENCE), has a deadline
 * and passes the caller's request id on; answers become typed errors
 * (unreachable → UNAVAILABLE naming the address, missing → FAILED_PRECONDITION
 * ARTIFACT_NOT_FOUND, other size → ARTIFACT_SIZE_MISMATCH, the store refusing
 * the registry's identity → FAILED_PRECONDITION CONTENT_STORE_REFUSED).
 * With tracing on, each call is a client span whose W3C `traceparent` goes
 * in the call's metadata, so the content store's span joins the caller's trace.
 */
import { createHmac } from 'node:crypto';
import { credentials, Metadata, status as grpcStatus, type ChannelCredentials } from '@grpc/grpc-js';
import { ContentClient, DEFAULT_RETRY_POLICY, GriotClientError, toGriotClientError } from '@griot/client';
import { rawSeed, type KeyFileKeyPair } from '@griot/did';
import { content } from '@griot/proto';
import { failedPrecondition, unavailable, withClientSpan } from '@griot/server-kit';

/** The class UUID of the registry's artifact manifests (kind griot.registry.artifact). */
export const REGISTRY_ARTIFACT_CLASS_ID = '8a4e3c52-1f0b-4d6a-9b2e-7c5d0e3f1a24';

/** The `kind` tag of the registry's artifact manifests. */
export const REGISTRY_ARTIFACT_KIND = 'griot.registry.artifact';

/** What {@link ArtifactChecker.keepArtifact} did. */
export interface KeptArtifact {
  /** The id of the registry's manifest. */
  manifestId: string;
  /** False when the manifest was made now (first registration, or restored after a deletion). */
  alreadyExisted: boolean;
}

/** Checks that the content store holds an artifact, and keeps it there. */
export interface ArtifactChecker {
  /**
   * Resolves when the store holds `sha256` with exactly `size` bytes.
   * @throws FAILED_PRECONDITION ARTIFACT_NOT_FOUND / ARTIFACT_SIZE_MISMATCH, UNAVAILABLE CONTENT_STORE_UNAVAILABLE.
   */
  checkArtifact(sha256: string, size: number, metadata: Metadata): Promise<void>;
  /**
   * Makes sure the registry's own manifest referencing the artifact exists in
   * the store (created by the registry's DID, with an id only the registry
   * derives from the package id), so the sweeper keeps the bytes while the
   * package is registered. Idempotent: an existing manifest is answered, a
   * deleted one is made again.
   * @throws FAILED_PRECONDITION ARTIFACT_NOT_FOUND / CONTENT_STORE_REFUSED, UNAVAILABLE CONTENT_STORE_UNAVAILABLE.
   */
  keepArtifact(sha256: string, size: number, packageId: string, metadata: Metadata): Promise<KeptArtifact>;
  /** Closes the channel. */
  close(): void;
}

/** Who the registry is to the content store. */
export interface ContentStoreIdentity {
  /** The registry's key pair. */
  keyPair: KeyFileKeyPair;
  /** The `aud` of its tokens. */
  audience: string;
}

/**
 * The id of the registry's manifest of a package: a UUID (version 8, RFC
 * 9562 custom) made from an HMAC-SHA256, keyed with the registry's private
 * seed, of `griot-registry-artifact:<package id>`. The same registry always
 * derives the same id (so creating it is idempotent), and nobody without the
 * registry's key can predict it to take it first.
 */
export function registryManifestId(keyPair: KeyFileKeyPair, packageId: string): string {
  const b = createHmac('sha256', rawSeed(keyPair.privateKey)).update(`griot-registry-artifact:${packageId}`).digest().subarray(0, 16);
  b[6] = (b[6]! & 0x0f) | 0x80;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const hex = b.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** A gRPC {@link ArtifactChecker} for the content store at `address` (plaintext unless `channelCredentials` say TLS). */
export function contentStoreChecker(
  address: string,
  deadlineMs: number,
  identity: ContentStoreIdentity,
  channelCredentials: ChannelCredentials = credentials.createInsecure(),
): ArtifactChecker {
  // @griot/client's content client: a fresh caller token of the registry on every call, the deadline, and no
  // retries (the registry's own caller decides whether to retry; a retry here would outlast its deadline).
  const client = new ContentClient(
    { service: 'content store', address, audience: identity.audience, identity: identity.keyPair, deadlineMs, retry: { ...DEFAULT_RETRY_POLICY, maxAttempts: 1 } },
    channelCredentials,
  );
  /** What a call threw, as the client's error (a non-gRPC error is rethrown as it is). */
  const statusOf = (err: unknown): GriotClientError => {
    const failure = toGriotClientError(err, { service: 'content store', address });
    if (failure instanceof GriotClientError) return failure;
    throw failure;
  };
  const unreachable = (err: GriotClientError, what: string) => {
    const why = err.code === grpcStatus.DEADLINE_EXCEEDED ? `did not answer within ${deadlineMs} ms` : `answered ${grpcStatus[err.code] ?? err.code}: ${err.details}`;
    return unavailable('CONTENT_STORE_UNAVAILABLE', `the content store at ${address} could not ${what}: it ${why}; retry later`, err);
  };
  const refused = (err: GriotClientError) =>
    failedPrecondition(
      'CONTENT_STORE_REFUSED',
      `the content store at ${address} refused the registry's identity ${identity.keyPair.did} (${grpcStatus[err.code]}: ${err.details}); ` +
        'its operator must accept it (CONTENT_WRITERS, CONTENT_TOKEN_AUDIENCE)',
      { registryDid: identity.keyPair.did },
    );
  return {
    async checkArtifact(sha256, size, metadata) {
      const blob = await withClientSpan('/griot.content.v1.ContentService/GetBlob', metadata, (m) => client.getBlob({ sha256 }, { metadata: m })).then(
        (response) => response.blob,
        (thrown: unknown) => {
        const err = statusOf(thrown);
        if (err.code === grpcStatus.NOT_FOUND) {
          throw failedPrecondition('ARTIFACT_NOT_FOUND', `the content store at ${address} does not hold artifact sha256:${sha256}; upload it before registering the package`, {
            sha256,
          });
        }
        if (err.code === grpcStatus.UNAUTHENTICATED || err.code === grpcStatus.PERMISSION_DENIED) throw refused(err);
        throw unreachable(err, `confirm artifact sha256:${sha256}`);
        },
      );
      if (!blob || blob.sha256 !== sha256) {
        throw unavailable('CONTENT_STORE_UNAVAILABLE', `the content store at ${address} answered a different blob for sha256:${sha256}`);
      }
      if (blob.size !== size) {
        throw failedPrecondition(
          'ARTIFACT_SIZE_MISMATCH',
          `the manifest says artifact sha256:${sha256} is ${size} bytes but the content store at ${address} holds ${blob.size} bytes`,
          { sha256, manifestSize: size, storedSize: blob.size },
        );
      }
    },

    async keepArtifact(sha256, size, packageId, metadata) {
      const request: content.CreateManifestRequest = {
        manifestId: registryManifestId(identity.keyPair, packageId),
        classId: REGISTRY_ARTIFACT_CLASS_ID,
        unpackerName: 'griot.package@v1',
        tags: { kind: REGISTRY_ARTIFACT_KIND, packageId },
        contents: [
          {
            contentKey: 'artifact',
            contentType: 'application/gzip',
            contentEncoding: '',
            serializerName: 'griot.bytes@v1',
            serializerConfig: undefined,
            serializerType: content.SerializerType.SERIALIZER_TYPE_STREAM,
            storageName: '',
            source: { $case: 'blobSha256', blobSha256: sha256 },
          },
        ],
      };
      const response = await withClientSpan('/griot.content.v1.ContentService/CreateManifest', metadata, (m) => client.createManifest(request, { metadata: m })).catch((thrown: unknown) => {
        const err = statusOf(thrown);
        if (err.code === grpcStatus.FAILED_PRECONDITION) {
          throw failedPrecondition('ARTIFACT_NOT_FOUND', `the content store at ${address} does not hold artifact sha256:${sha256} (${err.details}); upload it again`, { sha256 });
        }
        if (err.code === grpcStatus.UNAUTHENTICATED || err.code === grpcStatus.PERMISSION_DENIED || err.code === grpcStatus.ALREADY_EXISTS) throw refused(err);
        throw unreachable(err, `keep artifact sha256:${sha256}`);
      });
      const stored = response.manifest?.contents[0]?.contentSize;
      if (stored !== undefined && stored !== size) {
        throw failedPrecondition(
          'ARTIFACT_SIZE_MISMATCH',
          `the manifest says artifact sha256:${sha256} is ${size} bytes but the content store at ${address} holds ${stored} bytes`,
          { sha256, manifestSize: size, storedSize: stored },
        );
      }
      return { manifestId: response.manifest?.id ?? request.manifestId, alreadyExisted: response.alreadyExisted };
    },

    close() {
      client.close();
    },
  };
}
