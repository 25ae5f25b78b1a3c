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
   * @param slabBytes - The size of every buffer.
   * @param maxIdle - How many released buffers are kept for reuse.
   * @param allocateAligned - Makes one aligned buffer (a WebAssembly memory; replaceable for tests).
   */
  constructor(
    readonly slabBytes: number,
    private readonly maxIdle: number,
    private readonly allocateAligned: (size: number) => Buffer = wasmBuffer,
  ) {}

  /**
   * A buffer of `slabBytes`, whose first byte is page-aligned; or, where
   * the process may not reserve a WebAssembly memory (V8 reserves several
   * GiB of address space for each, which a `ulimit -v` can forbid), a plain
   * buffer, which direct writes refuse with EINVAL and writers then write
   * through the page cache.
   */
  take(): Buffer {
    const reused = this.idle.pop();
    if (reused) return reused;
    try {
      return this.allocateAligned(this.slabBytes);
    } catch {
      return Buffer.allocUnsafeSlow(this.slabBytes);
    }
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

/** A buffer over a WebAssembly memory of its own, whose base V8 maps at a page boundary. */
function wasmBuffer(size: number): Buffer {
  const pages = Math.ceil(size / WASM_PAGE);
  return Buffer.from(new WebAssembly.Memory({ initial: pages, maximum: pages }).buffer, 0, size);
}

/** Rounds `n` down to a multiple of {@link DIRECT_IO_ALIGNMENT}. */
export function alignDown(n: number): number {
  return n - (n % DIRECT_IO_ALIGNMENT);
}
