/**
 * A one-line progress bar with bytes and bytes per second, drawn only on a
 * TTY; elsewhere it draws nothing.
 */

/** A progress indicator. */
export interface Progress {
  /** Sets how many bytes are done. */
  update(done: number): void;
  /** Draws the final state and ends the line. */
  finish(): void;
}

/** Formats a byte count: `512 B`, `1.5 KiB`, `12.0 MiB`. */
export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = n;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(1)} ${units[unit]}`;
}

/**
 * Makes a progress bar on `stream`, or one that draws nothing when the stream is not a TTY.
 *
 * @param stream - Usually stderr.
 * @param total - The total bytes.
 * @param label - What is in progress, such as `uploading`.
 */
export function createProgress(stream: NodeJS.WritableStream & { isTTY?: boolean }, total: number, label: string): Progress {
  if (stream.isTTY !== true) return { update: () => undefined, finish: () => undefined };
  const started = Date.now();
  let last = 0;
  let done = 0;
  const draw = (): void => {
    const seconds = Math.max((Date.now() - started) / 1000, 0.001);
    const width = 24;
    const filled = total > 0 ? Math.min(width, Math.round((done / total) * width)) : width;
    const bar = `${'#'.repeat(filled)}${'-'.repeat(width - filled)}`;
    stream.write(`\r${label} [${bar}] ${formatBytes(done)} / ${formatBytes(total)}  ${formatBytes(Math.round(done / seconds))}/s   `);
  };
  return {
    update(n) {
      done = n;
      if (Date.now() - last >= 100) {
        last = Date.now();
        draw();
      }
    },
    finish() {
      draw();
      stream.write('\n');
    },
  };
}
