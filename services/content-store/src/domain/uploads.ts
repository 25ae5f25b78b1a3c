/**
 * Resumable, deduplicated uploads: bytes arrive in chunks, are hashed and
 * counted as they are written to the storage's staging area (a bounded
 * window of writes in flight, never a whole object in memory), and are
 * committed as a blob only when complete and matching what the client
 * declared.
 */
import { createHash, randomUUID, type Hash } from 'node:crypto';
import { Code, GriotError, invalidArgument, invalidField, notFound, optionalSha256, optionalUuid, requireSha256, requireUuid, SessionLockLostError } from '@griot/server-kit';
import { blobsRepository, type BlobRecord } from '../repository/blobs-repository';
import { uploadsRepository, type UploadRecord } from '../repository/uploads-repository';
import { receiveBuffers } from '../storage/aligned-slabs';
import type { BlobStore, UploadWriter } from '../storage/blob-store';
import { UploadOffsetAheadError, UploadOffsetUnalignedError } from '../storage/errors';
import { commitStaged, pinExisting } from './blob-commit';
import { pinDeadline, type ContentDeps } from './content-deps';
import { fromStorageError, withStorageErrors } from './storage-errors';

/** The resource type named in upload errors. */
export const UPLOAD_RESOURCE = 'griot.content.v1.Upload';
/** The resource type named in blob errors. */
export const BLOB_RESOURCE = 'griot.content.v1.Blob';

/**
 * How many bytes of writes may be in flight to the storage at once: enough
 * to keep receiving while the storage syncs, small enough to keep memory flat.
 */
const WRITE_WINDOW_BYTES = 16 * 1024 * 1024;

/** Opens or resumes an upload (the first message only). */
export interface UploadStartMessage {
  /** Client-chosen UUID, or empty. */
  uploadId: string;
  /** Storage name, or empty for the default. */
  storageName: string;
  /** Declared SHA-256, or empty. */
  sha256: string;
  /** Declared size, if known. */
  size?: number;
}

/** One message of an upload stream. */
export interface UploadMessage {
  /** Present in the first message only. */
  start?: UploadStartMessage;
  /** Offset of `data` in the blob. */
  offset: number;
  /** The bytes. */
  data: Uint8Array;
  /** True in the last message. */
  finishWrite: boolean;
}

/** How an upload stream ended. */
export interface UploadOutcome {
  /** The upload's id. */
  uploadId: string;
  /** Bytes committed. */
  committedSize: number;
  /** True when the blob is committed. */
  complete: boolean;
  /** True when no bytes were needed. */
  deduplicated: boolean;
  /** The blob, when complete. */
  blob?: BlobRecord;
}

/** What GetUploadStatus answers. */
export interface UploadStatus {
  /** The session. */
  upload: UploadRecord;
  /** The blob, when complete and still held. */
  blob?: BlobRecord;
}

/** Reads the next message, failing with the abort reason as soon as the call is cancelled. */
function nextMessage<T>(iterator: AsyncIterator<T>, signal: AbortSignal): Promise<IteratorResult<T>> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    iterator.next().then(
      (r) => {
        signal.removeEventListener('abort', onAbort);
        resolve(r);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(err);
      },
    );
  });
}

function wrongOffset(field: string, got: number, expected: number): GriotError {
  return new GriotError(Code.OUT_OF_RANGE, 'WRONG_OFFSET', `${field}: the upload continues at offset ${expected}, not ${got}`, {
    metadata: { expectedOffset: expected, offset: got },
    fieldViolations: [{ field, description: `must be ${expected}, the number of bytes committed so far` }],
  });
}

/** Writes to an {@link UploadWriter} with a bounded number of bytes in flight. */
class WindowedWriter {
  private readonly pending: { done: Promise<void>; bytes: number }[] = [];
  private pendingBytes = 0;

  constructor(readonly writer: UploadWriter) {}

  /** Writes `chunk`; a received chunk's buffer goes back to the receive buffers once the writer is done with it. */
  async write(chunk: Uint8Array): Promise<void> {
    const done = this.writer.write(chunk);
    const release = () => receiveBuffers.release(chunk);
    done.then(release, release);
    this.pending.push({ done, bytes: chunk.length });
    this.pendingBytes += chunk.length;
    while (this.pendingBytes > WRITE_WINDOW_BYTES) await this.settleOldest();
  }

  async drain(): Promise<void> {
    while (this.pending.length > 0) await this.settleOldest();
  }

  private async settleOldest(): Promise<void> {
    const oldest = this.pending.shift()!;
    this.pendingBytes -= oldest.bytes;
    await oldest.done;
  }
}

/** An upload's lock, held by one stream (or the sweeper) at a time across every replica on the database. */
export interface UploadHold {
  /** Aborts if the lock is lost before it is released (its database connection dropped). */
  lost: AbortSignal;
  /** Releases the lock. */
  release(): Promise<void>;
}

function uploadInProgress(uploadId: string): GriotError {
  return new GriotError(Code.ABORTED, 'UPLOAD_IN_PROGRESS', `upload ${uploadId} is being written by another stream; retry when it ends`, {
    metadata: { uploadId },
  });
}

/** Upload operations. */
export class Uploads {
  /** Upload streams running in this process (bounded by CONTENT_MAX_CONCURRENT_UPLOADS). */
  private running = 0;
  /** Upload streams running per connection (bounded by CONTENT_MAX_UPLOADS_PER_CONNECTION). */
  private readonly perConnection = new Map<string, number>();

  /** @param deps - Database, locks, storages, clock, limits. */
  constructor(private readonly deps: ContentDeps) {}

  /**
   * Takes an upload's lock: a stream writing it, in this process or another
   * on the same database, holds it (so does the sweeper while it expires one).
   *
   * @returns The hold, or undefined when someone else holds the lock.
   */
  async hold(uploadId: string): Promise<UploadHold | undefined> {
    const name = `griot.content.upload:${uploadId}`;
    const lost = await this.deps.locks.tryLock(name);
    return lost && { lost, release: () => this.deps.locks.unlock(name) };
  }

  /**
   * Runs one upload stream to its end.
   *
   * @param messages - The stream's messages.
   * @param signal - Aborted when the client cancels.
   * @param connection - The connection it came on (the peer address), for the per-connection limit.
   */
  async upload(messages: AsyncIterable<UploadMessage>, signal: AbortSignal, connection = ''): Promise<UploadOutcome> {
    // Each stream holds file descriptors (its staging file, twice with direct I/O): bounded before any is opened.
    const { maxConcurrentUploads = Infinity, maxUploadsPerConnection = Infinity } = this.deps.limits;
    const onConnection = this.perConnection.get(connection) ?? 0;
    const tooMany = (limit: string, max: number, running: number, where: string) =>
      new GriotError(
        Code.RESOURCE_EXHAUSTED,
        'TOO_MANY_UPLOADS',
        `${where} runs ${running} upload streams, the most ${limit} (${max}) allows; retry in a few seconds, or resume the upload then`,
        { metadata: { limit, max, retryAfterSeconds: 5 } },
      );
    if (this.running >= maxConcurrentUploads) throw tooMany('CONTENT_MAX_CONCURRENT_UPLOADS', maxConcurrentUploads, this.running, 'this content store');
    if (onConnection >= maxUploadsPerConnection) throw tooMany('CONTENT_MAX_UPLOADS_PER_CONNECTION', maxUploadsPerConnection, onConnection, 'this connection');
    this.running += 1;
    this.perConnection.set(connection, onConnection + 1);
    try {
      return await this.runStream(messages, signal);
    } finally {
      this.running -= 1;
      const left = (this.perConnection.get(connection) ?? 1) - 1;
      if (left > 0) this.perConnection.set(connection, left);
      else this.perConnection.delete(connection);
    }
  }

  private async runStream(messages: AsyncIterable<UploadMessage>, signal: AbortSignal): Promise<UploadOutcome> {
    const iterator = messages[Symbol.asyncIterator]();
    const first = await nextMessage(iterator, signal);
    if (first.done || !first.value.start) {
      throw invalidArgument('MISSING_START', 'the first message must carry start', [{ field: 'start', description: 'is required in the first message' }]);
    }
    const start = first.value.start;
    const declaredSha = optionalSha256('start.sha256', start.sha256);
    const requestedId = optionalUuid('start.upload_id', start.uploadId);
    if (start.size !== undefined && (!Number.isSafeInteger(start.size) || start.size < 0)) {
      throw invalidField('start.size', 'INVALID_SIZE', `must be a non-negative number of bytes, not ${start.size}`);
    }
    const declaredSize = start.size ?? null;
    // Held before the session is read, so that what is read stays true while this stream runs.
    const uploadId = requestedId ?? randomUUID();
    const held = await this.hold(uploadId);
    if (!held) throw uploadInProgress(uploadId);
    const metrics = this.deps.metrics;
    metrics?.uploadsInProgress.inc();
    try {
      const outcome = await this.run(iterator, first.value, signal, held, { uploadId, requestedId, declaredSha, declaredSize });
      if (outcome.deduplicated) metrics?.deduplicatedUploads.inc();
      return outcome;
    } finally {
      metrics?.uploadsInProgress.dec();
      await held.release();
    }
  }

  private async run(
    iterator: AsyncIterator<UploadMessage>,
    first: UploadMessage,
    signal: AbortSignal,
    hold: UploadHold,
    declared: { uploadId: string; requestedId?: string; declaredSha?: string; declaredSize: number | null },
  ): Promise<UploadOutcome> {
    const { uploadId, requestedId, declaredSha, declaredSize } = declared;
    const start = first.start!;
    const existing = requestedId ? await uploadsRepository.find(this.deps.db, requestedId) : undefined;
    const store = this.storeOf(start.storageName || existing?.storageName || '');

    if (existing?.complete) return this.completedOutcome(existing, store);
    if (existing) {
      if (existing.storageName !== store.name) {
        throw this.changed(existing, 'start.storage_name', `writes to ${existing.storageName}, not ${store.name}`);
      }
      if (declaredSha && existing.declaredSha256 && declaredSha !== existing.declaredSha256) {
        throw this.changed(existing, 'start.sha256', `was started with sha256 ${existing.declaredSha256}`);
      }
      if (declaredSize !== null && existing.declaredSize !== null && declaredSize !== existing.declaredSize) {
        throw this.changed(existing, 'start.size', `was started with size ${existing.declaredSize}`);
      }
    }
    const sha = declaredSha ?? existing?.declaredSha256 ?? undefined;
    const size = declaredSize ?? existing?.declaredSize ?? null;

    if (sha) {
      const held = await pinExisting(this.deps, store, sha);
      if (held) return this.deduplicated(held, size, uploadId, requestedId !== undefined, existing);
    }

    const committed = existing?.committedSize ?? 0;
    if (first.offset !== committed) throw wrongOffset('offset', first.offset, committed);
    return this.stream(iterator, first, AbortSignal.any([signal, hold.lost]), { uploadId, store, existing, sha, size });
  }

  private async stream(
    iterator: AsyncIterator<UploadMessage>,
    first: UploadMessage,
    signal: AbortSignal,
    plan: { uploadId: string; store: BlobStore; existing?: UploadRecord; sha?: string; size: number | null },
  ): Promise<UploadOutcome> {
    const { uploadId, store, existing } = plan;
    const { db, limits } = this.deps;
    const startedAt = existing?.committedSize ?? 0;
    if (!existing) {
      const now = this.deps.clock();
      await uploadsRepository.create(db, {
        uploadId,
        storageName: store.name,
        declaredSha256: plan.sha ?? null,
        declaredSize: plan.size,
        now,
        expiresAt: pinDeadline(this.deps, now),
      });
    }
    // Hashed here, on the thread that receives: a worker thread fed through
    // shared buffers cost more CPU per byte and more memory than it saved
    // (issue 18: server CPU per GiB 1.43x the floor here against 1.68x with
    // the worker, RSS growth 44 against 56 MiB, four paired runs).
    const hash = createHash('sha256');
    let writer: WindowedWriter | undefined;
    let position = startedAt;
    let recorded = startedAt;
    let lastSyncAt = startedAt;
    // One sync at a time runs behind the writes, so receiving goes on while it
    // does; when the next is due before it ends, it starts as soon as it ends.
    let syncing: Promise<number> | undefined;
    let syncRunning = false;
    let closing = false;
    const settleSync = async () => {
      if (syncing) recorded = await syncing;
      syncing = undefined;
    };
    // Starts a checkpoint when enough bytes arrived since the last one. Also
    // called when a checkpoint ends, so bytes that arrived during it are made
    // durable even if the client then sends nothing more for a while.
    const startSyncIfDue = (): void => {
      if (closing || syncRunning || !writer || position - lastSyncAt < limits.syncEveryBytes) return;
      syncRunning = true;
      lastSyncAt = position;
      const previous = syncing;
      const current = writer;
      syncing = (async () => {
        if (previous) recorded = await previous;
        return this.checkpoint(current, uploadId, false);
      })();
      syncing.then(
        (durable) => {
          recorded = Math.max(recorded, durable);
          syncRunning = false;
          startSyncIfDue();
        },
        () => (syncRunning = false),
      );
    };
    try {
      writer = new WindowedWriter(await this.open(store, uploadId, startedAt));
      if (startedAt > 0) await this.rehash(store, uploadId, startedAt, hash);
      let message: UploadMessage | undefined = first;
      let finished = false;
      let index = 0;
      while (message) {
        if (index > 0 && message.start) throw invalidField('start', 'START_REPEATED', 'is only allowed in the first message of an upload');
        if (finished) throw invalidArgument('DATA_AFTER_FINISH', 'a message arrived after the one with finish_write; the upload was already complete', [{ field: 'finish_write', description: 'must be set only in the last message' }]);
        if (message.offset !== position) throw wrongOffset('offset', message.offset, position);
        const data = message.data;
        if (data.length > limits.maxChunkBytes) {
          throw invalidField('data', 'CHUNK_TOO_LARGE', `is ${data.length} bytes; the chunk limit is ${limits.maxChunkBytes} bytes`, {
            limit: limits.maxChunkBytes,
            size: data.length,
          });
        }
        if (plan.size !== null && position + data.length > plan.size) {
          throw new GriotError(Code.INVALID_ARGUMENT, 'SIZE_EXCEEDED', `data: the upload declared ${plan.size} bytes but this chunk brings it to ${position + data.length}`, {
            metadata: { declaredSize: plan.size, size: position + data.length },
            fieldViolations: [{ field: 'data', description: `goes past the declared size of ${plan.size} bytes` }],
          });
        }
        if (data.length > 0) {
          hash.update(data);
          await writer.write(data);
          position += data.length;
          this.deps.metrics?.bytesUploaded.inc(data.length);
        }
        startSyncIfDue();
        finished = message.finishWrite;
        index += 1;
        const next: IteratorResult<UploadMessage> = await nextMessage(iterator, signal);
        message = next.done ? undefined : next.value;
      }
      closing = true;
      await settleSync();
      if (!finished) {
        recorded = await this.checkpoint(writer, uploadId);
        await writer.writer.close();
        return { uploadId, committedSize: recorded, complete: false, deduplicated: false };
      }
      const digest = hash.digest('hex');
      await writer.drain();
      await withStorageErrors(() => writer!.writer.close());
      writer = undefined;
      if (plan.size !== null && position !== plan.size) {
        throw new GriotError(Code.INVALID_ARGUMENT, 'SIZE_MISMATCH', `the upload declared ${plan.size} bytes but ${position} arrived`, {
          metadata: { declaredSize: plan.size, size: position },
        });
      }
      if (plan.sha && digest !== plan.sha) {
        throw new GriotError(Code.INVALID_ARGUMENT, 'DIGEST_MISMATCH', `the bytes hash to sha256 ${digest}, not the declared ${plan.sha}`, {
          metadata: { declaredSha256: plan.sha, sha256: digest },
        });
      }
      const blob = await commitStaged(this.deps, store, uploadId, digest, position);
      const now = this.deps.clock();
      await uploadsRepository.complete(db, uploadId, digest, position, now, pinDeadline(this.deps, now));
      return { uploadId, committedSize: position, complete: true, deduplicated: false, blob };
    } catch (err) {
      if (signal.aborted && !(err instanceof GriotError && err.code !== Code.CANCELLED)) {
        // The client went away, or the upload's lock was lost: keep what is durable, so it can resume.
        closing = true;
        await syncing?.catch(() => undefined);
        if (writer) await this.checkpoint(writer, uploadId).then(() => writer!.writer.close()).catch(() => writer!.writer.destroy());
        if (err instanceof SessionLockLostError) {
          throw new GriotError(Code.ABORTED, 'UPLOAD_LOCK_LOST', `upload ${uploadId} stopped: the service lost its lock on it (its database connection dropped); resume from the committed offset`, {
            metadata: { uploadId },
          });
        }
        throw err;
      }
      closing = true;
      await syncing?.catch(() => undefined);
      await writer?.drain().catch(() => undefined);
      await writer?.writer.destroy().catch(() => undefined);
      await this.rollBack(store, uploadId, existing, err);
      throw fromStorageError(err);
    }
  }

  /**
   * A stream that failed leaves nothing behind: an upload it created is
   * deleted with its staged bytes; a resumed one goes back to the committed
   * size it had (the bytes past it are discarded when it resumes), unless
   * its bytes are known to be wrong (size or digest), which discards it.
   * A stream stopped by a full storage or by running out of files keeps its
   * upload (recorded before its first byte) at the size its last checkpoint
   * recorded, so that it resumes once space or files are back.
   */
  private async rollBack(store: BlobStore, uploadId: string, existing: UploadRecord | undefined, err: unknown): Promise<void> {
    if (isOutOfResources(err)) {
      this.deps.logger.warn({ err, uploadId }, 'an upload stopped: the storage is full or out of files; it can resume from its committed size');
      return;
    }
    const reason = err instanceof GriotError ? err.reason : '';
    const discard = !existing || ['SIZE_EXCEEDED', 'SIZE_MISMATCH', 'DIGEST_MISMATCH'].includes(reason);
    try {
      if (discard) {
        await uploadsRepository.remove(this.deps.db, uploadId);
        await store.abortUpload(uploadId);
      } else {
        const now = this.deps.clock();
        await uploadsRepository.recordProgress(this.deps.db, uploadId, existing.committedSize, now, pinDeadline(this.deps, now));
      }
    } catch (cleanupErr) {
      this.deps.logger.warn({ err: cleanupErr, uploadId }, 'could not roll back a failed upload; the sweeper will expire it');
    }
  }

  private async open(store: BlobStore, uploadId: string, offset: number): Promise<UploadWriter> {
    try {
      return await store.openUpload(uploadId, offset);
    } catch (err) {
      // The storage holds fewer durable bytes than recorded: continue from what it has.
      const usable = err instanceof UploadOffsetUnalignedError ? err.partStart : err instanceof UploadOffsetAheadError ? err.durableSize : undefined;
      if (usable === undefined) throw fromStorageError(err);
      const now = this.deps.clock();
      await uploadsRepository.recordProgress(this.deps.db, uploadId, usable, now, pinDeadline(this.deps, now));
      throw wrongOffset('offset', offset, usable);
    }
  }

  private async rehash(store: BlobStore, uploadId: string, length: number, hash: Hash): Promise<void> {
    await withStorageErrors(async () => {
      for await (const chunk of store.readUpload(uploadId, length)) hash.update(chunk as Buffer);
    });
  }

  /**
   * Syncs the staged bytes and records the durable size. The sync is queued
   * behind every write already handed to the writer, so draining first is
   * only needed when nothing may be left in flight afterwards.
   */
  private async checkpoint(writer: WindowedWriter, uploadId: string, drain = true): Promise<number> {
    if (drain) await writer.drain();
    const started = performance.now();
    const durable = await withStorageErrors(() => writer.writer.sync());
    const now = this.deps.clock();
    await uploadsRepository.recordProgress(this.deps.db, uploadId, durable, now, pinDeadline(this.deps, now));
    this.deps.metrics?.checkpointSeconds.observe((performance.now() - started) / 1000);
    return durable;
  }

  private async deduplicated(held: BlobRecord, size: number | null, uploadId: string, requested: boolean, existing: UploadRecord | undefined): Promise<UploadOutcome> {
    if (size !== null && size !== held.size) {
      throw new GriotError(Code.INVALID_ARGUMENT, 'SIZE_MISMATCH', `start.size: the blob ${held.sha256} has ${held.size} bytes, not the declared ${size}`, {
        metadata: { declaredSize: size, size: held.size },
        fieldViolations: [{ field: 'start.size', description: `must be ${held.size}, the size of the blob with the declared digest` }],
      });
    }
    if (requested) {
      const now = this.deps.clock();
      if (!existing) {
        await uploadsRepository.create(this.deps.db, {
          uploadId,
          storageName: held.storageName,
          declaredSha256: held.sha256,
          declaredSize: held.size,
          now,
          expiresAt: pinDeadline(this.deps, now),
        });
      } else {
        await this.storeOf(existing.storageName).abortUpload(uploadId).catch(() => undefined);
      }
      await uploadsRepository.complete(this.deps.db, uploadId, held.sha256, held.size, now, pinDeadline(this.deps, now));
    }
    return { uploadId, committedSize: held.size, complete: true, deduplicated: true, blob: held };
  }

  private async completedOutcome(upload: UploadRecord, store: BlobStore): Promise<UploadOutcome> {
    const blob = upload.blobSha256 ? await pinExisting(this.deps, store, upload.blobSha256) : undefined;
    if (!blob) {
      throw new GriotError(Code.FAILED_PRECONDITION, 'UPLOAD_BLOB_GONE', `upload ${upload.uploadId} completed but its blob was deleted since; start a new upload`, {
        metadata: { uploadId: upload.uploadId },
      });
    }
    return { uploadId: upload.uploadId, committedSize: upload.committedSize, complete: true, deduplicated: false, blob };
  }

  private changed(existing: UploadRecord, field: string, description: string): GriotError {
    return new GriotError(Code.FAILED_PRECONDITION, 'UPLOAD_PARAMETERS_CHANGED', `${field}: upload ${existing.uploadId} ${description}`, {
      metadata: { uploadId: existing.uploadId },
      fieldViolations: [{ field, description }],
    });
  }

  private storeOf(name: string, field = 'start.storage_name'): BlobStore {
    try {
      return this.deps.stores.get(name);
    } catch (err) {
      throw fromStorageError(err, field);
    }
  }

  /** The status of an upload. @throws NOT_FOUND when there is no such upload (never started, or expired). */
  async status(uploadIdValue: string): Promise<UploadStatus> {
    const uploadId = requireUuid('upload_id', uploadIdValue);
    const upload = await uploadsRepository.find(this.deps.db, uploadId);
    if (!upload) throw notFound(UPLOAD_RESOURCE, uploadId, `upload ${uploadId} was not found (never started, or expired)`);
    const blob = upload.complete && upload.blobSha256 ? await blobsRepository.findLive(this.deps.db, upload.storageName, upload.blobSha256) : undefined;
    return { upload, blob };
  }

  /** The digests, among `digests`, that the storage does not hold, in request order (and pins those it holds). */
  async findMissing(storageName: string, digests: string[]): Promise<string[]> {
    const store = this.storeOf(storageName, 'storage_name');
    if (digests.length > 10_000) throw invalidField('sha256', 'TOO_MANY_DIGESTS', `lists ${digests.length} digests; the limit is 10000 per call`);
    digests.forEach((d, i) => requireSha256(`sha256[${i}]`, d));
    const unique = [...new Set(digests)];
    const held = new Set((await blobsRepository.extendPins(this.deps.db, store.name, unique, pinDeadline(this.deps))).map((b) => b.sha256));
    return digests.filter((d) => !held.has(d));
  }

  /** A committed blob by digest, in one storage or any. */
  async getBlob(sha256Value: string, storageName: string): Promise<BlobRecord> {
    const sha256 = requireSha256('sha256', sha256Value);
    const blob = storageName
      ? await blobsRepository.findLive(this.deps.db, this.storeOf(storageName, 'storage_name').name, sha256)
      : await blobsRepository.findLiveAnyStorage(this.deps.db, sha256);
    if (!blob) throw notFound(BLOB_RESOURCE, sha256, `blob ${sha256} was not found${storageName ? ` in ${storageName}` : ''}`);
    return blob;
  }
}

/** True for a full storage or exhausted file descriptors (the error or one of its causes): the upload may resume later. */
function isOutOfResources(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; typeof e === 'object' && e !== null && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    if (e instanceof GriotError && (e.reason === 'STORAGE_FULL' || e.reason === 'TOO_MANY_OPEN_FILES' || e.reason === 'DISK_FULL')) return true;
    const code = (e as { code?: unknown }).code;
    if (code === 'ENOSPC' || code === 'EDQUOT' || code === 'EMFILE' || code === 'ENFILE') return true;
  }
  return false;
}
