/**
 * The one streaming interface every storage backend of the content store
 * implements. Bytes are content-addressed by SHA-256 (lowercase hex); since
 * the digest is known only once every byte has arrived, writes go to a
 * per-upload staging area and are committed under their digest at the end.
 */
import type { Readable } from 'node:stream';

/** A byte range of a committed blob. */
export interface ByteRange {
  /** First byte to return; may equal the size (an empty read at the end). */
  offset: number;
  /** Most bytes to return; undefined reads to the end. */
  length?: number;
}

/** How a read may allocate the chunks it reads into. */
export interface ReadBuffers {
  /**
   * A buffer of `size` bytes for one chunk (the default is a plain
   * `Buffer.allocUnsafeSlow`). The service passes one with room for the
   * response header before it, so a chunk is sent without a copy; backends
   * whose client library allocates its own chunks ignore it.
   */
  allocate(size: number): Buffer;
}

/** What the store knows about a committed blob. */
export interface BlobStat {
  /** Size in bytes. */
  size: number;
}

/**
 * A storage backend. The service layer hashes the bytes as they pass, tracks
 * the committed offset of each upload in PostgreSQL, and calls this.
 */
export interface BlobStore {
  /** Versioned storage name recorded in labox_contents.storage_name, e.g. 'griot.file@v1'. */
  readonly name: string;
  /** The storage_config JSON object recorded for a blob: where the bytes are, enough for a reader to find them again. */
  locate(sha256: string): Record<string, unknown>;
  /** Size of the committed blob, or undefined when this storage does not hold it. */
  stat(sha256: string): Promise<BlobStat | undefined>;
  /** Opens the staging area of an upload for appending at `offset` (0 for a new upload). Bytes staged beyond `offset` by an earlier, interrupted attempt are discarded. */
  openUpload(uploadId: string, offset: number): Promise<UploadWriter>;
  /** Streams back the first `length` staged bytes of an upload (the service re-hashes them when resuming). */
  readUpload(uploadId: string, length: number): Readable;
  /** Moves the staged bytes of an upload to the content-addressed location of `sha256`, create-only: if the blob already exists, the staged copy is dropped and this still succeeds. Returns locate(sha256). */
  commitUpload(uploadId: string, sha256: string, size: number): Promise<Record<string, unknown>>;
  /** Deletes an upload's staged bytes; no error if there are none. */
  abortUpload(uploadId: string): Promise<void>;
  /** Streams a committed blob, from `offset`, at most `length` bytes (undefined = to the end); chunks are read into `buffers` where the backend can. */
  read(sha256: string, range?: ByteRange, buffers?: ReadBuffers): Readable;
  /** Deletes a committed blob; no error if absent. */
  delete(sha256: string): Promise<void>;
  /** Releases resources (clients, pools). */
  close(): Promise<void>;
  /** Resolves when the storage answers a cheap request (readiness); rejects with why not. Absent: always answers. */
  probe?(): Promise<void>;
}

/** Appends to the staging area of one upload. Not safe for concurrent calls: await each before the next. */
export interface UploadWriter {
  /** Appends a chunk; resolves when the chunk is accepted (respects backpressure: never buffer unboundedly). */
  write(chunk: Uint8Array): Promise<void>;
  /** Makes every byte written so far durable (fsync, or finishing the current part object) and resolves with the durable staged size. After sync, a crash loses nothing written before it. */
  sync(): Promise<number>;
  /** Syncs and closes the writer. */
  close(): Promise<number>;
  /** Closes without syncing (for aborts). */
  destroy(): Promise<void>;
}
