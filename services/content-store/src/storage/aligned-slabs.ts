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

/** The memory of the buffers made by {@link wasmBuffer}, whose first byte is page-aligned. */
const alignedMemory = new WeakSet<ArrayBufferLike>();

/** A buffer over a WebAssembly memory of its own, whose base V8 maps at a page boundary. */
function wasmBuffer(size: number): Buffer {
  const pages = Math.ceil(size / WASM_PAGE);
  const memory = new WebAssembly.Memory({ initial: pages, maximum: pages }).buffer;
  alignedMemory.add(memory);
  return Buffer.from(memory, 0, size);
}

/** True when `view` starts on a {@link DIRECT_IO_ALIGNMENT} boundary of a page-aligned buffer made here. */
export function isPageAligned(view: Uint8Array): boolean {
  return view.byteOffset % DIRECT_IO_ALIGNMENT === 0 && alignedMemory.has(view.buffer);
}

/**
 * Page-aligned buffers of any size, lent for one received message each (the
 * UploadBlob requests the transport assembles with their bytes on a page
 * boundary, see `requestDeframer`), and given back by whoever holds a view of
 * one once the message is handled. A buffer never given back is collected as
 * any other. Idle buffers are kept by size, up to `maxIdleBytes` in all.
 */
export class ReceiveBufferPool {
  private readonly idle = new Map<number, Buffer[]>();
  private idleBytes = 0;
  /** The buffers lent and not yet given back, by their memory. */
  private readonly lent = new WeakMap<ArrayBufferLike, Buffer>();

  /**
   * @param maxIdleBytes - How many bytes of given-back buffers are kept for reuse.
   * @param allocateAligned - Makes one aligned buffer (a WebAssembly memory; replaceable for tests).
   */
  constructor(
    private readonly maxIdleBytes: number,
    private readonly allocateAligned: (size: number) => Buffer = wasmBuffer,
  ) {}

  /** A buffer of at least `size` bytes (whole 64 KiB pages), page-aligned where the process may reserve WebAssembly memory. */
  take(size: number): Buffer {
    const bytes = Math.ceil(Math.max(1, size) / WASM_PAGE) * WASM_PAGE;
    let buffer = this.idle.get(bytes)?.pop();
    if (buffer) {
      this.idleBytes -= bytes;
    } else {
      try {
        buffer = this.allocateAligned(bytes);
      } catch {
        buffer = Buffer.allocUnsafeSlow(bytes);
      }
    }
    this.lent.set(buffer.buffer, buffer);
    return buffer;
  }

  /** Gives back the buffer `view` is part of; nothing for a view of any other memory, or of a buffer already given back. */
  release(view: Uint8Array): void {
    const buffer = this.lent.get(view.buffer);
    if (!buffer) return;
    this.lent.delete(view.buffer);
    if (this.idleBytes + buffer.length > this.maxIdleBytes) return;
    const same = this.idle.get(buffer.length);
    if (same) same.push(buffer);
    else this.idle.set(buffer.length, [buffer]);
    this.idleBytes += buffer.length;
  }

  /** How many bytes of buffers wait for reuse. */
  get idleByteCount(): number {
    return this.idleBytes;
  }
}

/**
 * The process's buffers for received upload chunks: enough idle to cover a
 * few uploads' chunks in flight (each holds up to its write window).
 */
export const receiveBuffers = new ReceiveBufferPool(48 * 1024 * 1024);

/** Rounds `n` down to a multiple of {@link DIRECT_IO_ALIGNMENT}. */
export function alignDown(n: number): number {
  return n - (n % DIRECT_IO_ALIGNMENT);
}
