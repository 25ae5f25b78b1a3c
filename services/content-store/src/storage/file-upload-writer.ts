/**
 * The {@link UploadWriter} of the file storage. Chunks are copied into a few
 * reusable slabs and written to the staging file a slab at a time, several
 * slabs in flight at once; fsync runs beside the writes that follow it.
 *
 * Copying is what keeps the process fast and its memory flat: a chunk the
 * writer held on to until its write completed would outlive the young
 * generation, and V8 would then spend a large share of the time in full
 * garbage collections under external memory pressure. A copied chunk is
 * dropped at once, and the slabs are reused from upload to upload.
 *
 * Where the file system supports it, slabs are written with direct I/O
 * (`O_DIRECT`): from the slab to the device, without a copy into the page
 * cache and without the kernel's writeback of it at the next fsync, which
 * made an upload's kernel time three to forty times larger. Direct writes
 * must start and end on a 4 KiB boundary, so a slab always starts at an
 * aligned file offset; the unaligned end of the bytes written at a sync (or
 * at close) is written through the page cache, and kept to start the next
 * slab, which writes it again with what follows.
 *
 * A chunk that already sits where a direct write can take it (page-aligned
 * memory from the receive buffers, a whole number of 4 KiB blocks, at an
 * aligned file offset with no slab part-filled) is written from where it is,
 * without the copy: its write resolves only once the chunk is on disk, and
 * the caller gives its memory back then.
 */
import type { FileHandle } from 'node:fs/promises';
import { AlignedSlabPool, alignDown, DIRECT_IO_ALIGNMENT, isPageAligned } from './aligned-slabs';
import type { UploadWriter } from './blob-store';
import { UploadWriterClosedError } from './errors';
import { isErrno } from './file-system';
import { SerialQueue } from './serial-queue';

const MiB = 1024 * 1024;
const NOTHING = Buffer.alloc(0);
/** Most chunks in one gathered write (below every system's IOV_MAX). */
const MAX_GATHERED = 64;

/** How a {@link FileUploadWriter} buffers. */
export interface FileUploadWriterOptions {
  /** Bytes of one slab: the size of one positional write (default 4 MiB; a multiple of 4 KiB). */
  slabBytes?: number;
  /** Most slabs per upload, filling or being written (default 4): what a write may keep in memory. */
  maxSlabs?: number;
  /** Where slabs come from (default: a process-wide pool per slab size). */
  pool?: AlignedSlabPool;
}

/** The staging file, as the writer uses it. */
export interface StagingFile {
  /** The file, open for reading and writing through the page cache. */
  handle: FileHandle;
  /** The same file opened with `O_DIRECT`, when the file system supports it; the writer closes it. */
  direct?: FileHandle;
}

/** Slab pools by slab size, shared by every writer of the process. */
const pools = new Map<number, AlignedSlabPool>();

function poolOf(slabBytes: number, maxSlabs: number): AlignedSlabPool {
  let pool = pools.get(slabBytes);
  if (!pool) pools.set(slabBytes, (pool = new AlignedSlabPool(slabBytes, maxSlabs)));
  return pool;
}

/** Writes one upload's staging file, from the offset it was opened at. */
export class FileUploadWriter implements UploadWriter {
  private readonly queue = new SerialQueue();
  private readonly pool: AlignedSlabPool;
  private readonly maxSlabs: number;
  private readonly free: Buffer[] = [];
  private allocated = 0;
  private readonly handle: FileHandle;
  /** The direct handle, until the file system refuses a direct write. */
  private direct: FileHandle | undefined;
  /** The slab being filled, and how many bytes it holds. */
  private current: Buffer | undefined;
  private fill = 0;
  /** Where the current (or next) slab's first byte goes in the file: a 4 KiB boundary when writing direct. */
  private slabStart: number;
  /** The bytes between `slabStart` and the end of what was handed out, to start the next slab with. */
  private carry: Buffer = NOTHING;
  /** How many bytes at the start of the current slab are `carry`, already handed out. */
  private carried = 0;
  /** Writes and syncs started and not yet settled; they never reject (a failure is kept in `failure`). */
  private readonly inFlight = new Set<Promise<void>>();
  private readonly syncs = new Set<Promise<void>>();
  private failure: { error: unknown } | undefined;
  /** Chunks written in place, waiting for the gathered write before them. */
  private readonly inPlace: { bytes: Buffer; position: number; resolve: () => void; reject: (error: unknown) => void }[] = [];
  private inPlaceRunning = false;
  private directorySynced: Promise<void> | undefined;
  private closed = false;

  /**
   * Opens a writer at `position`. When writing direct from an unaligned
   * position, the bytes before it in its 4 KiB block are read back first.
   *
   * @param uploadId - The upload, for errors.
   * @param file - The staging file, already cut to `position`.
   * @param position - Where the next byte goes (the staged size).
   * @param syncDirectory - Makes the staging file's directory entry durable; called once, on the first sync.
   * @param options - Slab sizes.
   */
  static async open(
    uploadId: string,
    file: StagingFile,
    position: number,
    syncDirectory: (() => Promise<void>) | undefined,
    options: FileUploadWriterOptions = {},
  ): Promise<FileUploadWriter> {
    const writer = new FileUploadWriter(uploadId, file, position, syncDirectory, options);
    const head = position - writer.slabStart;
    if (head > 0) {
      const carry = Buffer.allocUnsafe(head);
      for (let done = 0; done < head; ) {
        const { bytesRead } = await file.handle.read(carry, done, head - done, writer.slabStart + done);
        if (bytesRead === 0) throw new Error(`staging file of upload ${uploadId} ends before offset ${position}`);
        done += bytesRead;
      }
      writer.carry = carry;
    }
    return writer;
  }

  private constructor(
    private readonly uploadId: string,
    file: StagingFile,
    position: number,
    private readonly syncDirectory: (() => Promise<void>) | undefined,
    options: FileUploadWriterOptions,
  ) {
    const slabBytes = Math.max(DIRECT_IO_ALIGNMENT, alignDown(options.slabBytes ?? 4 * MiB));
    this.maxSlabs = Math.max(1, options.maxSlabs ?? 4);
    this.pool = options.pool ?? poolOf(slabBytes, this.maxSlabs);
    this.handle = file.handle;
    this.direct = file.direct;
    this.slabStart = this.direct ? alignDown(position) : position;
  }

  /** Whether slabs are written with direct I/O (false once the file system refused it). */
  get directIo(): boolean {
    return this.direct !== undefined;
  }

  /** The end of the bytes handed out so far. */
  private get position(): number {
    return this.slabStart + (this.current ? this.fill : this.carry.length);
  }

  /**
   * {@inheritDoc UploadWriter.write}
   * Resolves once the chunk is copied (the caller may reuse it); waits only
   * while every slab is being written. A failed write fails the next call.
   * A chunk written in place resolves once written (and fails if that
   * write does).
   */
  write(chunk: Uint8Array): Promise<void> {
    return this.queue
      .run(async () => {
        this.assertUsable();
        if (this.writesInPlace(chunk)) return this.writeInPlace(chunk);
        await this.copyIn(chunk);
        return undefined;
      })
      .then((inPlace) => inPlace?.written);
  }

  /** Whether `chunk` can be written direct from its own memory: aligned memory, length and file offset, nothing part-filled before it. */
  private writesInPlace(chunk: Uint8Array): boolean {
    return (
      this.direct !== undefined &&
      this.current === undefined &&
      this.carry.length === 0 &&
      chunk.length > 0 &&
      chunk.length % DIRECT_IO_ALIGNMENT === 0 &&
      isPageAligned(chunk)
    );
  }

  /**
   * Queues the direct write of `chunk` at the end of the file; `written`
   * settles when it does. One gathered write runs at a time and takes every
   * contiguous chunk queued behind it: concurrent direct writes that extend
   * a file only wait on its inode lock (spinning, on ext4), while one larger
   * write keeps the device as busy.
   */
  private writeInPlace(chunk: Uint8Array): { written: Promise<void> } {
    const position = this.slabStart;
    this.slabStart += chunk.length;
    const bytes = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length);
    const written = new Promise<void>((resolve, reject) => this.inPlace.push({ bytes, position, resolve, reject }));
    const settled = written.then(
      () => undefined,
      (error: unknown) => void (this.failure ??= { error }),
    );
    this.inFlight.add(settled);
    void settled.then(() => this.inFlight.delete(settled));
    this.writeQueuedInPlace();
    return { written };
  }

  /** Starts one gathered direct write of the contiguous chunks at the head of the queue, unless one runs. */
  private writeQueuedInPlace(): void {
    if (this.inPlaceRunning || this.inPlace.length === 0) return;
    let end = this.inPlace[0]!.position;
    let count = 0;
    while (count < this.inPlace.length && count < MAX_GATHERED && this.inPlace[count]!.position === end) end += this.inPlace[count++]!.bytes.length;
    const batch = this.inPlace.splice(0, count);
    this.inPlaceRunning = true;
    void this.writeGathered(
      batch.map((c) => c.bytes),
      batch[0]!.position,
    )
      .then(
        () => batch.forEach((c) => c.resolve()),
        (error: unknown) => batch.forEach((c) => c.reject(error)),
      )
      .finally(() => {
        this.inPlaceRunning = false;
        this.writeQueuedInPlace();
      });
  }

  /** Writes `buffers` one after another from `position`: direct, or through the page cache once the file system refused a direct write. */
  private async writeGathered(buffers: Buffer[], position: number): Promise<void> {
    const direct = this.direct;
    if (direct) {
      try {
        return await writevFully(direct, buffers, position);
      } catch (err) {
        if (!isErrno(err, 'EINVAL')) throw err;
        if (this.direct === direct) {
          this.direct = undefined;
          void direct.close().catch(() => undefined);
        }
      }
    }
    await writevFully(this.handle, buffers, position);
  }

  /** Copies `chunk` into slabs, writing each slab as it fills. */
  private async copyIn(chunk: Uint8Array): Promise<void> {
    let at = 0;
    while (at < chunk.length) {
      if (!this.current) {
        const slab = await this.takeSlab();
        this.carried = this.carry.copy(slab, 0);
        this.fill = this.carried;
        this.carry = NOTHING;
        this.current = slab;
      }
      const n = Math.min(this.current.length - this.fill, chunk.length - at);
      this.current.set(chunk.subarray(at, at + n), this.fill);
      this.fill += n;
      at += n;
      if (this.fill === this.current.length) this.dispatch();
    }
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
        await this.closeHandles();
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
      await this.closeHandles();
      this.release();
    });
  }

  /** A free slab: a released one, one from the pool while under the limit, or the next one a write releases. */
  private async takeSlab(): Promise<Buffer> {
    while (this.free.length === 0 && this.allocated >= this.maxSlabs) {
      await Promise.race(this.inFlight);
      this.assertUsable();
    }
    const slab = this.free.pop();
    if (slab) return slab;
    this.allocated += 1;
    return this.pool.take();
  }

  /**
   * Starts writing the current slab at `slabStart`. Writing direct, the
   * slab's aligned part goes direct and its unaligned end through the page
   * cache; that end is carried to the next slab, which starts at the last
   * boundary.
   */
  private dispatch(): void {
    const slab = this.current;
    const length = this.fill;
    if (!slab) return;
    this.current = undefined;
    this.fill = 0;
    if (length === this.carried) {
      // Nothing new since the slab was taken: its bytes are already written.
      this.carry = Buffer.from(slab.subarray(0, length));
      this.free.push(slab);
      return;
    }
    const start = this.slabStart;
    const aligned = this.direct ? alignDown(length) : length;
    this.carry = aligned < length ? Buffer.from(slab.subarray(aligned, length)) : NOTHING;
    this.slabStart = start + aligned;
    const written = this.writeSlab(slab, start, aligned, length).then(
      () => void this.free.push(slab),
      (error: unknown) => {
        this.failure ??= { error };
        this.free.push(slab);
      },
    );
    this.inFlight.add(written);
    void written.then(() => this.inFlight.delete(written));
  }

  private async writeSlab(slab: Buffer, start: number, aligned: number, length: number): Promise<void> {
    if (aligned > 0) await this.writeAligned(slab, aligned, start);
    if (length > aligned) await writeFully(this.handle, slab, aligned, length, start + aligned);
  }

  /** Writes direct; if the file system refuses (EINVAL: an alignment it does not take), writes through the page cache from then on. */
  private async writeAligned(slab: Buffer, length: number, position: number): Promise<void> {
    const direct = this.direct;
    if (direct) {
      try {
        return await writeFully(direct, slab, 0, length, position);
      } catch (err) {
        if (!isErrno(err, 'EINVAL')) throw err;
        if (this.direct === direct) {
          this.direct = undefined;
          // Closing waits for the handle's other writes, which fall back alike.
          void direct.close().catch(() => undefined);
        }
      }
    }
    await writeFully(this.handle, slab, 0, length, position);
  }

  private async flush(): Promise<void> {
    await this.handle.sync();
    if (this.syncDirectory) await (this.directorySynced ??= this.syncDirectory());
  }

  /** Waits until no write and no sync is running. */
  private async settle(): Promise<void> {
    while (this.inFlight.size > 0 || this.syncs.size > 0) await Promise.all([...this.inFlight, ...this.syncs]);
  }

  private async closeHandles(): Promise<void> {
    const direct = this.direct;
    this.direct = undefined;
    await direct?.close().catch(() => undefined);
    await this.handle.close();
  }

  /** Gives the slabs back to the pool; every write has settled. */
  private release(): void {
    if (this.current) this.free.push(this.current);
    this.current = undefined;
    for (const slab of this.free.splice(0)) this.pool.release(slab);
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

/** Writes `buffer[from, to)` at `position`, however many calls it takes. */
async function writeFully(handle: FileHandle, buffer: Buffer, from: number, to: number, position: number): Promise<void> {
  for (let done = from; done < to; ) {
    const { bytesWritten } = await handle.write(buffer, done, to - done, position + done - from);
    done += bytesWritten;
  }
}

/** Writes `buffers`, one after another, at `position`, however many calls it takes. */
async function writevFully(handle: FileHandle, buffers: Buffer[], position: number): Promise<void> {
  let rest = [...buffers];
  let at = position;
  while (rest.length > 0) {
    const { bytesWritten } = await handle.writev(rest, at);
    if (bytesWritten === 0) throw new Error(`writev at ${at} wrote nothing`);
    at += bytesWritten;
    let skip = bytesWritten;
    while (rest.length > 0 && skip >= rest[0]!.length) skip -= rest.shift()!.length;
    if (skip > 0) rest = [rest[0]!.subarray(skip), ...rest.slice(1)];
  }
}
