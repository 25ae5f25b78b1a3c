/**
 * The {@link UploadWriter} of the file storage: positional writes to the
 * staging file, each awaited (so nothing is buffered), and fsync on sync.
 */
import type { FileHandle } from 'node:fs/promises';
import type { UploadWriter } from './blob-store';
import { UploadWriterClosedError } from './errors';
import { SerialQueue } from './serial-queue';

/** Writes one upload's staging file, from the offset it was opened at. */
export class FileUploadWriter implements UploadWriter {
  private readonly queue = new SerialQueue();
  private closed = false;

  /**
   * @param uploadId - The upload, for errors.
   * @param handle - The staging file, open for writing and already cut to `position`.
   * @param position - Where the next byte goes (the staged size).
   * @param syncDirectory - Makes the staging file's directory entry durable; called once, on the first sync.
   */
  constructor(
    private readonly uploadId: string,
    private readonly handle: FileHandle,
    private position: number,
    private syncDirectory: (() => Promise<void>) | undefined,
  ) {}

  /** {@inheritDoc UploadWriter.write} */
  write(chunk: Uint8Array): Promise<void> {
    return this.queue.run(async () => {
      this.assertOpen();
      let done = 0;
      while (done < chunk.length) {
        const { bytesWritten } = await this.handle.write(chunk, done, chunk.length - done, this.position);
        done += bytesWritten;
        this.position += bytesWritten;
      }
    });
  }

  /** {@inheritDoc UploadWriter.sync} */
  sync(): Promise<number> {
    return this.queue.run(async () => {
      this.assertOpen();
      return this.flush();
    });
  }

  /** {@inheritDoc UploadWriter.close} */
  close(): Promise<number> {
    return this.queue.run(async () => {
      this.assertOpen();
      try {
        return await this.flush();
      } finally {
        this.closed = true;
        await this.handle.close();
      }
    });
  }

  /** {@inheritDoc UploadWriter.destroy} */
  destroy(): Promise<void> {
    return this.queue.run(async () => {
      if (this.closed) return;
      this.closed = true;
      await this.handle.close();
    });
  }

  private async flush(): Promise<number> {
    await this.handle.sync();
    if (this.syncDirectory) {
      await this.syncDirectory();
      this.syncDirectory = undefined;
    }
    return this.position;
  }

  private assertOpen(): void {
    if (this.closed) throw new UploadWriterClosedError(this.uploadId);
  }
}
