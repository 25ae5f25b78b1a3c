/**
 * Reading bytes back: a content (by id, or by manifest and key) or a blob,
 * whole or as a range, streamed in chunks with backpressure. Whole reads are
 * hashed as they go and end in DATA_LOSS when the bytes do not match.
 */
import { createHash } from 'node:crypto';
import { Code, GriotError, invalidArgument, invalidField, notFound, requireSha256, requireText, requireUuid } from '@griot/server-kit';
import { blobsRepository } from '../repository/blobs-repository';
import { manifestsRepository } from '../repository/manifests-repository';
import type { BlobStore, ReadBuffers } from '../storage/blob-store';
import { BlobNotFoundError, RangeNotSatisfiableError } from '../storage/errors';
import type { ContentDeps } from './content-deps';
import { fromStorageError } from './storage-errors';
import { BLOB_RESOURCE } from './uploads';

/** The resource type named in content errors. */
export const CONTENT_RESOURCE = 'griot.content.v1.Content';

/** Largest data of one read message. */
const READ_CHUNK_BYTES = 1024 * 1024;

/** What to read. */
export type ReadTarget =
  | { $case: 'contentId'; contentId: string }
  | { $case: 'contentRef'; contentRef: { manifestId: string; contentKey: string } }
  | { $case: 'blob'; blob: { sha256: string; storageName: string } };

/** A read request. */
export interface ReadRequest {
  /** What to read; undefined is INVALID_ARGUMENT. */
  target?: ReadTarget;
  /** First byte. */
  offset: number;
  /** Most bytes; 0 reads to the end. */
  limit: number;
}

/** One chunk of a read. */
export interface ReadChunk {
  /** Offset of data. */
  offset: number;
  /** The bytes. */
  data: Buffer;
  /** Size of the whole content. */
  totalSize: number;
}

interface Located {
  storageName: string;
  sha256: string;
  size: number;
  what: string;
}

/** Read operations. */
export class Reads {
  /** @param deps - Database, storages, clock, limits. */
  constructor(private readonly deps: ContentDeps) {}

  /**
   * Streams the requested bytes through `send` (which waits while the client
   * is slow). The first chunk carries the total size; an empty range sends
   * one chunk with no data. `buffers` allocates the chunks the storage reads
   * into, where it can (the gRPC layer's leave room for the response header).
   */
  async read(request: ReadRequest, signal: AbortSignal, send: (chunk: ReadChunk) => Promise<void>, buffers?: ReadBuffers): Promise<void> {
    if (!Number.isSafeInteger(request.offset) || request.offset < 0) {
      throw invalidField('offset', 'INVALID_OFFSET', `must be a non-negative byte offset, not ${request.offset}`);
    }
    if (!Number.isSafeInteger(request.limit) || request.limit < 0) {
      throw invalidField('limit', 'INVALID_LIMIT', `must be 0 (to the end) or a positive number of bytes, not ${request.limit}`);
    }
    const located = await this.locate(request.target);
    const store = this.configuredStore(located);
    if (request.offset > located.size) {
      throw new GriotError(Code.OUT_OF_RANGE, 'OFFSET_PAST_END', `offset: ${request.offset} is past the end of the ${located.size}-byte ${located.what}`, {
        metadata: { offset: request.offset, size: located.size },
        fieldViolations: [{ field: 'offset', description: `must be at most ${located.size}, the size` }],
      });
    }
    const remaining = located.size - request.offset;
    const length = request.limit === 0 ? remaining : Math.min(request.limit, remaining);
    const whole = request.offset === 0 && length === located.size;
    if (length === 0) {
      await send({ offset: request.offset, data: Buffer.alloc(0), totalSize: located.size });
      return;
    }
    // Hashed here, on the thread that sends: a worker thread fed through
    // shared buffers cost more CPU than it saved (issue 18: server CPU 1.12-1.20x
    // the floor hashing here against 1.82x with the worker).
    const hash = whole ? createHash('sha256') : undefined;
    const stream = store.read(located.sha256, { offset: request.offset, length }, buffers);
    let position = request.offset;
    try {
      for await (const raw of stream) {
        if (signal.aborted) throw signal.reason;
        const chunk = raw as Buffer;
        hash?.update(chunk);
        for (let at = 0; at < chunk.length; at += READ_CHUNK_BYTES) {
          // A chunk that fits goes as it is (a view would lose the room `buffers` left before it).
          const data = chunk.length <= READ_CHUNK_BYTES ? chunk : chunk.subarray(at, Math.min(at + READ_CHUNK_BYTES, chunk.length));
          await send({ offset: position, data, totalSize: located.size });
          position += data.length;
          this.deps.metrics?.bytesServed.inc(data.length);
        }
      }
    } catch (err) {
      if (err instanceof BlobNotFoundError || err instanceof RangeNotSatisfiableError) {
        throw this.dataLoss(located, `the stored bytes of the ${located.what} are missing or shorter than recorded`, 'BYTES_MISSING');
      }
      throw fromStorageError(err);
    } finally {
      stream.destroy();
    }
    const expectedEnd = request.offset + length;
    if (position !== expectedEnd) {
      throw this.dataLoss(located, `the storage returned ${position - request.offset} bytes where ${length} were recorded`, 'BYTES_MISSING');
    }
    if (hash) {
      const digest = hash.digest('hex');
      if (digest !== located.sha256) {
        throw this.dataLoss(located, `the stored bytes hash to sha256 ${digest}, not the recorded ${located.sha256}; do not trust the data received`, 'DIGEST_MISMATCH', digest);
      }
    }
  }

  private dataLoss(located: Located, message: string, reason: string, actual?: string): GriotError {
    return new GriotError(Code.DATA_LOSS, reason, message, {
      metadata: { sha256: located.sha256, storageName: located.storageName, ...(actual ? { actualSha256: actual } : {}) },
    });
  }

  private configuredStore(located: Located): BlobStore {
    try {
      return this.deps.stores.get(located.storageName);
    } catch {
      throw new GriotError(Code.FAILED_PRECONDITION, 'STORAGE_NOT_CONFIGURED', `the ${located.what} is stored in ${located.storageName}, which this server does not have configured`, {
        metadata: { storageName: located.storageName },
      });
    }
  }

  private async locate(target: ReadTarget | undefined): Promise<Located> {
    const { db } = this.deps;
    switch (target?.$case) {
      case 'contentId': {
        const id = requireUuid('content_id', target.contentId);
        const content = await manifestsRepository.findContent(db, id);
        if (!content) throw notFound(CONTENT_RESOURCE, id);
        return { storageName: content.storageName, sha256: content.contentHash, size: content.contentSize, what: 'content' };
      }
      case 'contentRef': {
        const manifestId = requireUuid('content_ref.manifest_id', target.contentRef.manifestId);
        const key = requireText('content_ref.content_key', target.contentRef.contentKey);
        const content = await manifestsRepository.findContentByKey(db, manifestId, key);
        if (!content) throw notFound(CONTENT_RESOURCE, `${manifestId}/${key}`, `manifest ${manifestId} has no content ${JSON.stringify(key)} (or does not exist)`);
        return { storageName: content.storageName, sha256: content.contentHash, size: content.contentSize, what: 'content' };
      }
      case 'blob': {
        const sha256 = requireSha256('blob.sha256', target.blob.sha256);
        let blob;
        if (target.blob.storageName) {
          try {
            this.deps.stores.get(target.blob.storageName);
          } catch (err) {
            throw fromStorageError(err, 'blob.storage_name');
          }
          blob = await blobsRepository.findLive(db, target.blob.storageName, sha256);
        } else {
          blob = await blobsRepository.findLiveAnyStorage(db, sha256);
        }
        if (!blob) throw notFound(BLOB_RESOURCE, sha256);
        return { storageName: blob.storageName, sha256, size: blob.size, what: 'blob' };
      }
      default:
        throw invalidArgument('MISSING_TARGET', 'the request names nothing to read: set content_id, content_ref or blob', [
          { field: 'target', description: 'one of content_id, content_ref or blob is required' },
        ]);
    }
  }
}
