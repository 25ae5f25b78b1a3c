/**
 * Moving bytes to and from the content store for the commands and the
 * agent, through {@link GriotClient}: resumable uploads and streamed reads,
 * with errors as {@link CliError}s.
 */
import type { Metadata } from '@grpc/grpc-js';
import { DEFAULT_RETRY_POLICY, readContentChunks, type BlobDigest, type content, type Identity, type UploadOutcome } from '@griot/client';
import type { KeyFileKeyPair } from '@griot/did';
import { toCliError, type Endpoint, type ServiceClients } from './grpc-call';

export { CONTENT_AUDIENCE, hashFile, uploadIdFor, UPLOAD_CHUNK_BYTES } from '@griot/client';

/** Options of {@link uploadFile}. */
export interface UploadFileOptions {
  /** The file to upload. */
  readonly path: string;
  /** Its digest, from {@link hashFile}. */
  readonly digest: BlobDigest;
  /** The uploader, whose caller token each attempt carries (the store requires one). */
  readonly identity: Identity | KeyFileKeyPair;
  /** Called with the bytes of the blob done so far (committed + sent). */
  readonly onProgress?: (done: number) => void;
  /** The largest chunk per message. */
  readonly chunkBytes?: number;
}

/**
 * Uploads a file as a blob, resuming an interrupted upload of the same file
 * from what the store committed, and skipping the bytes entirely when the
 * store already holds the digest.
 *
 * @param clients - The service clients.
 * @param options - The file, its digest, the uploader and a progress callback.
 * @throws {@link CliError} when the store refuses the upload or cannot be reached.
 */
export async function uploadFile(clients: Pick<ServiceClients, 'griot' | 'contentEndpoint'>, options: UploadFileOptions): Promise<UploadOutcome> {
  try {
    return await clients.griot().content.uploadFile(options.path, {
      sha256: options.digest.sha256,
      size: options.digest.size,
      identity: options.identity,
      onProgress: options.onProgress,
      chunkBytes: options.chunkBytes,
    });
  } catch (err: unknown) {
    throw toCliError(err, clients.contentEndpoint);
  }
}

/**
 * Streams bytes from the content store, calling `onData` for each chunk in
 * order. Without metadata, a dropped stream continues after the bytes
 * received; with it (its token is good for one call), it is not retried.
 *
 * @param client - The content store client.
 * @param endpoint - The content store, for error messages.
 * @param request - What to read.
 * @param onData - Receives each chunk; may return a promise to apply backpressure.
 * @param metadata - Call metadata.
 * @returns The number of bytes read.
 */
export async function readContent(
  client: content.ContentServiceClient,
  endpoint: Endpoint,
  request: content.ReadContentRequest,
  onData: (chunk: Buffer) => void | Promise<void>,
  metadata?: Metadata,
): Promise<number> {
  let total = 0;
  const site = { ...endpoint, audience: '', deadlineMs: 0, retry: DEFAULT_RETRY_POLICY };
  try {
    for await (const data of readContentChunks({ site, raw: client }, request, { metadata, identity: null, retry: metadata === undefined ? undefined : false })) {
      total += data.length;
      await onData(data);
    }
  } catch (err: unknown) {
    throw toCliError(err, endpoint);
  }
  return total;
}
