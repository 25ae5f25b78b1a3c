/**
 * Page-aligned buffers for direct I/O (`O_DIRECT`), which needs the memory,
 * the file offset and the length of every write aligned to the device's
 * block. Node.js has no aligned allocator, but V8 maps each WebAssembly
 * memory at a page boundary, so a Buffer over one starts aligned.
 *
 * The buffers are kept for reuse across uploads, a few at most: memory the
 * process already touched costs nothing to write into again, while a fresh
 * allocation faults in every page (on a VM with free-page reporting, through
 * the host).
 */

/** The alignment direct writes keep: 4 KiB covers 512-byte and 4 KiB logical blocks. */
export const DIRECT_IO_ALIGNMENT = 4096;

const WASM_PAGE = 65_536;

/** The one WebAssembly API used here (its types come with the DOM library, which this project leaves out). */
declare const WebAssembly: { Memory: new (descriptor: { initial: number; maximum?: number }) => { readonly buffer: ArrayBuffer } };

/** A pool of page-aligned buffers of one size. */
export class AlignedSlabPool {
  private readonly idle: Buffer[] = [];

  /**
   * @param slabBytes - The size of every buffer (rounded up to 64 KiB, the WebAssembly page).
   * @param maxIdle - How many released buffers are kept for reuse.
   */
  constructor(
    readonly slabBytes: number,
    private readonly maxIdle: number,
  ) {}

  /** A buffer of `slabBytes`, whose first byte is page-aligned. */
  take(): Buffer {
    const reused = this.idle.pop();
    if (reused) return reused;
    const pages = Math.ceil(this.slabBytes / WASM_PAGE);
    const memory = new WebAssembly.Memory({ initial: pages, maximum: pages });
    return Buffer.from(memory.buffer, 0, this.slabBytes);
  }

  /** Gives a buffer back; it must not be used after. */
  release(slab: Buffer): void {
    if (this.idle.length < this.maxIdle && slab.length === this.slabBytes) this.idle.push(slab);
  }

  /** How many buffers wait for reuse. */
  get idleCount(): number {
    return this.idle.length;
  }
}

/** Rounds `n` down to a multiple of {@link DIRECT_IO_ALIGNMENT}. */
export function alignDown(n: number): number {
  return n - (n % DIRECT_IO_ALIGNMENT);
}
