/**
 * The {@link UploadWriter} of the database storage: writes are gathered into
 * parts of up to 256 KiB, each inserted as one row of `content_upload_parts`
 * (durable once inserted); sync inserts what is gathered.
 */
import type { Knex } from 'knex';
import type { UploadWriter } from './blob-store';
import { toStorageError } from './database-errors';
import { UPLOAD_PARTS_TABLE } from './database-tables';
import { BlobTooLargeError, UploadWriterClosedError } from './errors';
import { SerialQueue } from './serial-queue';

/** Sizes that bound a database upload. */
export interface DatabaseUploadLimits {
  /** Largest blob the storage accepts. */
  maxBytes: number;
  /** Size of the parts the writer inserts. */
  partBytes: number;
}

/** Inserts the parts of one upload, from the offset it was opened at. */
export class DatabaseUploadWriter implements UploadWriter {
  private readonly queue = new SerialQueue();
  private buffer: Buffer | undefined;
  private buffered = 0;
  private closed = false;

  /**
   * @param storageName - For errors.
   * @param knex - The database.
   * @param uploadId - A normalized upload id.
   * @param position - Offset of the next part (bytes already staged).
   * @param limits - Blob and part sizes.
   */
  constructor(
    private readonly storageName: string,
    private readonly knex: Knex,
    private readonly uploadId: string,
    private position: number,
    private readonly limits: DatabaseUploadLimits,
  ) {}

  /** {@inheritDoc UploadWriter.write} */
  write(chunk: Uint8Array): Promise<void> {
    return this.queue.run(async () => {
      this.assertOpen();
      const reached = this.position + this.buffered + chunk.length;
      if (reached > this.limits.maxBytes) throw new BlobTooLargeError(this.storageName, this.limits.maxBytes, reached);
      let at = 0;
      while (at < chunk.length) {
        // Copying into the part buffer frees the caller's chunk at once and bounds memory to one part.
        this.buffer ??= Buffer.allocUnsafe(this.limits.partBytes);
        const n = Math.min(this.limits.partBytes - this.buffered, chunk.length - at);
        this.buffer.set(chunk.subarray(at, at + n), this.buffered);
        this.buffered += n;
        at += n;
        if (this.buffered === this.limits.partBytes) await this.insertPart();
      }
    });
  }

  /** {@inheritDoc UploadWriter.sync} */
  sync(): Promise<number> {
    return this.queue.run(async () => {
      this.assertOpen();
      await this.insertPart();
      return this.position;
    });
  }

  /** {@inheritDoc UploadWriter.close} */
  close(): Promise<number> {
    return this.queue.run(async () => {
      this.assertOpen();
      try {
        await this.insertPart();
        return this.position;
      } finally {
        this.release();
      }
    });
  }

  /** {@inheritDoc UploadWriter.destroy} */
  destroy(): Promise<void> {
    return this.queue.run(async () => this.release());
  }

  private async insertPart(): Promise<void> {
    if (!this.buffer || this.buffered === 0) return;
    try {
      await this.knex.raw(`INSERT INTO ${UPLOAD_PARTS_TABLE} (upload_id, start_offset, data) VALUES (?, ?, ?)`, [
        this.uploadId,
        this.position,
        this.buffer.subarray(0, this.buffered),
      ]);
    } catch (err) {
      throw toStorageError(this.storageName, err);
    }
    this.position += this.buffered;
    this.buffered = 0;
  }

  private release(): void {
    this.closed = true;
    this.buffer = undefined;
    this.buffered = 0;
  }

  private assertOpen(): void {
    if (this.closed) throw new UploadWriterClosedError(this.uploadId);
  }
}
