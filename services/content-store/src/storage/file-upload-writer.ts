/**
 * The {@link UploadWriter} of the file storage. Chunks are copied into a few
 * reusable slabs and written to the staging file a slab at a time, several
 * slabs in flight at once; fsync runs beside the writes that follow it.
 *
 * Copying is what keeps the process fast and its memory flat: a chunk the
 * writer held on to until its write completed would outlive the young
 * generation, and V8 would then spend a large share of the time in full
 * garbage collections under external memory pressure. A copied chunk is
 * dropped at once, and the slabs are allocated once per upload.
 */
import type { FileHandle } from 'node:fs/promises';
import type { UploadWriter } from './blob-store';
import { UploadWriterClosedError } from './errors';
import { SerialQueue } from './serial-queue';

const MiB = 1024 * 1024;

/** How a {@link FileUploadWriter} buffers. */
export interface FileUploadWriterOptions {
  /** Bytes of one slab: the size of one positional write (default 4 MiB). */
  slabBytes?: number;
  /** Most slabs per upload, filling or being written (default 4): what a write may keep in memory. */
  maxSlabs?: number;
}

/** Writes one upload's staging file, from the offset it was opened at. */
export class FileUploadWriter implements UploadWriter {
  private readonly queue = new SerialQueue();
  private readonly slabBytes: number;
  private readonly maxSlabs: number;
  private readonly free: Buffer[] = [];
  private allocated = 0;
  /** The slab being filled, and how many bytes it holds. */
  private current: Buffer | undefined;
  private fill = 0;
  /** Writes and syncs started and not yet settled; they never reject (a failure is kept in `failure`). */
  private readonly inFlight = new Set<Promise<void>>();
  private readonly syncs = new Set<Promise<void>>();
  private failure: { error: unknown } | undefined;
  private directorySynced: Promise<void> | undefined;
  private closed = false;

  /**
   * @param uploadId - The upload, for errors.
   * @param handle - The staging file, open for writing and already cut to `position`.
   * @param position - Where the next byte goes (the staged size).
   * @param syncDirectory - Makes the staging file's directory entry durable; called once, on the first sync.
   * @param options - Slab sizes.
   */
  constructor(
    private readonly uploadId: string,
    private readonly handle: FileHandle,
    private position: number,
    private readonly syncDirectory: (() => Promise<void>) | undefined,
    options: FileUploadWriterOptions = {},
  ) {
    this.slabBytes = options.slabBytes ?? 4 * MiB;
    this.maxSlabs = Math.max(1, options.maxSlabs ?? 4);
  }

  /**
   * {@inheritDoc UploadWriter.write}
   * Resolves once the chunk is copied (the caller may reuse it); waits only
   * while every slab is being written. A failed write fails the next call.
   */
  write(chunk: Uint8Array): Promise<void> {
    return this.queue.run(async () => {
      this.assertUsable();
      let at = 0;
      while (at < chunk.length) {
        this.current ??= await this.takeSlab();
        const n = Math.min(this.current.length - this.fill, chunk.length - at);
        this.current.set(chunk.subarray(at, at + n), this.fill);
        this.fill += n;
        at += n;
        if (this.fill === this.current.length) this.dispatch();
      }
    });
  }

  /**
   * {@inheritDoc UploadWriter.sync}
   * The fsync waits for the writes before it, not the other way round:
   * writes that follow go on while it runs.
   */
  sync(): Promise<number> {
    return this.queue
      .run(async () => {
        this.assertUsable();
        this.dispatch();
        const durable = this.position;
        const before = [...this.inFlight];
        const done = (async () => {
          await Promise.all(before);
          this.assertUsable();
          await this.flush();
          return durable;
        })();
        const settled = done.then(
          () => undefined,
          (error: unknown) => void (this.failure ??= { error }),
        );
        this.syncs.add(settled);
        void settled.then(() => this.syncs.delete(settled));
        return { done };
      })
      .then(({ done }) => done);
  }

  /** {@inheritDoc UploadWriter.close} */
  close(): Promise<number> {
    return this.queue.run(async () => {
      this.assertOpen();
      try {
        this.dispatch();
        await this.settle();
        this.assertUsable();
        await this.flush();
        return this.position;
      } finally {
        this.closed = true;
        await this.settle();
        await this.handle.close();
        this.release();
      }
    });
  }

  /** {@inheritDoc UploadWriter.destroy} Bytes already accepted are still written out, unsynced. */
  destroy(): Promise<void> {
    return this.queue.run(async () => {
      if (this.closed) return;
      this.closed = true;
      if (!this.failure) this.dispatch();
      await this.settle();
      await this.handle.close();
      this.release();
    });
  }

  /** A free slab: a released one, a new one while under the limit, or the next one a write releases. */
  private async takeSlab(): Promise<Buffer> {
    while (this.free.length === 0 && this.allocated >= this.maxSlabs) {
      await Promise.race(this.inFlight);
      this.assertUsable();
    }
    const slab = this.free.pop();
    if (slab) return slab;
    this.allocated += 1;
    return Buffer.allocUnsafeSlow(this.slabBytes);
  }

  /** Starts writing the filled part of the current slab at the end of what was handed out before. */
  private dispatch(): void {
    const slab = this.current;
    const length = this.fill;
    if (!slab || length === 0) return;
    this.current = undefined;
    this.fill = 0;
    const position = this.position;
    this.position += length;
    const written = this.writeFully(slab, length, position).then(
      () => void this.free.push(slab),
      (error: unknown) => {
        this.failure ??= { error };
        this.free.push(slab);
      },
    );
    this.inFlight.add(written);
    void written.then(() => this.inFlight.delete(written));
  }

  private async writeFully(slab: Buffer, length: number, position: number): Promise<void> {
    let done = 0;
    while (done < length) {
      const { bytesWritten } = await this.handle.write(slab, done, length - done, position + done);
      done += bytesWritten;
    }
  }

  private async flush(): Promise<void> {
    await this.handle.sync();
    if (this.syncDirectory) await (this.directorySynced ??= this.syncDirectory());
  }

  /** Waits until no write and no sync is running. */
  private async settle(): Promise<void> {
    while (this.inFlight.size > 0 || this.syncs.size > 0) await Promise.all([...this.inFlight, ...this.syncs]);
  }

  private release(): void {
    this.current = undefined;
    this.free.length = 0;
  }

  private assertOpen(): void {
    if (this.closed) throw new UploadWriterClosedError(this.uploadId);
  }

  /** Open, and no write or sync has failed (a failure stays: the staged bytes are then unknown). */
  private assertUsable(): void {
    this.assertOpen();
    if (this.failure) throw this.failure.error;
  }
}
