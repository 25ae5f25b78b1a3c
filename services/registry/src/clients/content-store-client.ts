/**
 * The registry's view of the content store: "do you hold these bytes?". One
 * GetBlob call with a deadline, the caller's request id passed on; answers
 * become typed errors (unreachable → UNAVAILABLE naming the address, missing
 * → FAILED_PRECONDITION ARTIFACT_NOT_FOUND, other size → ARTIFACT_SIZE_MISMATCH).
 */
import { credentials, Metadata, status as grpcStatus, type ChannelCredentials, type ServiceError } from '@grpc/grpc-js';
import { content } from '@griot/proto';
import { failedPrecondition, unavailable } from '@griot/server-kit';

/** Checks that the content store holds an artifact. */
export interface ArtifactChecker {
  /**
   * Resolves when the store holds `sha256` with exactly `size` bytes.
   * @throws FAILED_PRECONDITION ARTIFACT_NOT_FOUND / ARTIFACT_SIZE_MISMATCH, UNAVAILABLE CONTENT_STORE_UNAVAILABLE.
   */
  checkArtifact(sha256: string, size: number, metadata: Metadata): Promise<void>;
  /** Closes the channel. */
  close(): void;
}

/** A gRPC {@link ArtifactChecker} for the content store at `address` (plaintext unless `channelCredentials` say TLS). */
export function contentStoreChecker(address: string, deadlineMs: number, channelCredentials: ChannelCredentials = credentials.createInsecure()): ArtifactChecker {
  const client = new content.ContentServiceClient(address, channelCredentials);
  return {
    async checkArtifact(sha256, size, metadata) {
      const blob = await new Promise<content.Blob | undefined>((resolve, reject) => {
        client.getBlob({ sha256, storageName: '' }, metadata, { deadline: new Date(Date.now() + deadlineMs) }, (err, response) => {
          if (err) reject(err);
          else resolve(response.blob);
        });
      }).catch((err: ServiceError) => {
        if (err.code === grpcStatus.NOT_FOUND) {
          throw failedPrecondition('ARTIFACT_NOT_FOUND', `the content store at ${address} does not hold artifact sha256:${sha256}; upload it before registering the package`, {
            sha256,
          });
        }
        const why = err.code === grpcStatus.DEADLINE_EXCEEDED ? `did not answer within ${deadlineMs} ms` : `answered ${grpcStatus[err.code] ?? err.code}: ${err.details}`;
        throw unavailable('CONTENT_STORE_UNAVAILABLE', `the content store at ${address} could not confirm artifact sha256:${sha256}: it ${why}; retry later`, err);
      });
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
    close() {
      client.close();
    },
  };
}
