/**
 * SHA-256 of streamed bytes, computed on a worker thread.
 *
 * Hashing is the largest share of the main thread's work per byte on the
 * upload and read paths (about 0.5 s per GiB here), and the main thread is
 * also the one that runs HTTP/2 and every other call. A worker-backed
 * {@link Sha256Stream} copies each chunk into one of a few shared buffers (a memcpy, far cheaper
 * than hashing) and the worker hashes the filled buffers in order, while the
 * main thread goes on receiving and writing. Inputs smaller than one buffer
 * are hashed on the main thread: a round trip to the worker would cost more
 * than the hash.
 *
 * One worker serves the whole process; it does not keep the process alive,
 * and is started again after a crash (the hashes it held then fail).
 */
import { createHash } from 'node:crypto';
import { Worker } from 'node:worker_threads';

const MiB = 1024 * 1024;

/** The worker: a map of running hashes, fed from shared buffers, answering frees and digests. */
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const hashes = new Map();
parentPort.on('message', (m) => {
  if (m.op === 'open') {
    hashes.set(m.id, { hash: createHash('sha256'), slabs: m.slabs.map((s) => new Uint8Array(s)) });
  } else if (m.op === 'slab') {
    hashes.get(m.id).slabs[m.slab] = new Uint8Array(m.buffer);
  } else if (m.op === 'update') {
    const entry = hashes.get(m.id);
    entry.hash.update(entry.slabs[m.slab].subarray(0, m.length));
    parentPort.postMessage({ id: m.id, freed: m.slab });
  } else if (m.op === 'digest') {
    const entry = hashes.get(m.id);
    hashes.delete(m.id);
    parentPort.postMessage({ id: m.id, digest: entry.hash.digest('hex') });
  } else if (m.op === 'close') {
    hashes.delete(m.id);
  }
});
`;

interface WorkerReply {
  id: number;
  freed?: number;
  digest?: string;
}

/** What the shared worker needs to know of one open hash. */
interface Listener {
  freed(slab: number): void;
  digest(hex: string): void;
  failed(error: Error): void;
}

/** The process's hashing worker, started on first use. */
class HashWorker {
  private worker: Worker | undefined;
  private readonly listeners = new Map<number, Listener>();
  private nextId = 1;

  open(listener: Listener, slabs: SharedArrayBuffer[]): number {
    const id = this.nextId++;
    this.listeners.set(id, listener);
    this.post({ op: 'open', id, slabs });
    return id;
  }

  post(message: { op: string; id: number; [key: string]: unknown }): void {
    const worker = this.started();
    // While a hash is waiting on the worker, the worker keeps the event loop alive.
    if (this.listeners.size > 0) worker.ref();
    worker.postMessage(message);
  }

  /** Drops a hash on the worker, if it still holds it. */
  close(id: number): void {
    if (this.listeners.has(id)) this.worker?.postMessage({ op: 'close', id });
    this.forget(id);
  }

  /** Forgets a hash here; the worker lets go of the event loop when none is left. */
  private forget(id: number): void {
    this.listeners.delete(id);
    if (this.listeners.size === 0) this.worker?.unref();
  }

  private started(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(WORKER_SOURCE, { eval: true });
    worker.unref();
    worker.on('message', (reply: WorkerReply) => {
      const listener = this.listeners.get(reply.id);
      if (!listener) return;
      if (reply.freed !== undefined) listener.freed(reply.freed);
      if (reply.digest !== undefined) {
        // The worker dropped the hash as it answered.
        this.forget(reply.id);
        listener.digest(reply.digest);
      }
    });
    const fail = (error: Error) => {
      if (this.worker !== worker) return;
      this.worker = undefined;
      const failed = [...this.listeners.values()];
      this.listeners.clear();
      for (const listener of failed) listener.failed(error);
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`the hashing worker exited with code ${code}`)));
    this.worker = worker;
    return worker;
  }
}

const sharedWorker = new HashWorker();

/** A SHA-256 over bytes added in order. */
export interface Sha256Stream {
  /** Adds `chunk`; resolves once it is taken (the caller may reuse it), waiting while the worker is behind. */
  update(chunk: Uint8Array): Promise<void>;
  /** The hex digest of every byte added; call it once, at the end. */
  digest(): Promise<string>;
  /** Drops the hash without a digest (after a failed upload or read). */
  dispose(): void;
}

/** How a worker-backed {@link Sha256Stream} buffers. */
export interface Sha256StreamOptions {
  /** Bytes of one shared buffer (default 1 MiB); inputs expected to be smaller are hashed on the main thread. */
  slabBytes?: number;
  /** Most shared buffers per hash (default 4): how far the worker may fall behind. */
  slabs?: number;
}

/**
 * A SHA-256 for `expectedBytes` of input (unknown: `undefined`): hashed on
 * the worker when that is at least one shared buffer, on the main thread
 * otherwise.
 */
export function sha256Stream(expectedBytes: number | undefined, options: Sha256StreamOptions = {}): Sha256Stream {
  const slabBytes = options.slabBytes ?? MiB;
  if (expectedBytes !== undefined && expectedBytes < slabBytes) return new MainThreadSha256();
  return new WorkerSha256(slabBytes, Math.max(2, options.slabs ?? 4));
}

/** A SHA-256 computed where it is called. */
class MainThreadSha256 implements Sha256Stream {
  private readonly hash = createHash('sha256');

  update(chunk: Uint8Array): Promise<void> {
    this.hash.update(chunk);
    return Promise.resolve();
  }

  digest(): Promise<string> {
    return Promise.resolve(this.hash.digest('hex'));
  }

  dispose(): void {}
}

/**
 * Copies `source` into the shared buffer `target` at `offset`. V8 copies
 * into shared memory with relaxed atomics, byte by byte when source and
 * target are not equally aligned, which a chunk decoded from a protobuf
 * message rarely is: about 1 s per GiB here, against 0.1 s for `fill`, which
 * Node does with memcpy.
 */
function copyInto(target: Buffer, offset: number, source: Uint8Array): void {
  target.fill(source, offset, offset + source.length);
}

/** A SHA-256 computed on the shared worker, fed through a few shared buffers made as needed. */
class WorkerSha256 implements Sha256Stream {
  private readonly views: Buffer[] = [];
  private readonly free: number[] = [];
  private id: number | undefined;
  private current = -1;
  private fill = 0;
  private waiting: (() => void) | undefined;
  private result: { resolve(hex: string): void; reject(error: Error): void } | undefined;
  private failure: Error | undefined;
  private ended = false;

  constructor(
    private readonly slabBytes: number,
    private readonly maxSlabs: number,
  ) {}

  async update(chunk: Uint8Array): Promise<void> {
    if (this.ended) throw new Error('update after digest or dispose');
    let at = 0;
    while (at < chunk.length) {
      if (this.current < 0) this.current = await this.takeSlab();
      const view = this.views[this.current]!;
      const n = Math.min(view.length - this.fill, chunk.length - at);
      copyInto(view, this.fill, chunk.subarray(at, at + n));
      this.fill += n;
      at += n;
      if (this.fill === view.length) this.dispatch();
    }
  }

  async digest(): Promise<string> {
    if (this.ended) throw new Error('digest after digest or dispose');
    this.ended = true;
    if (this.failure) throw this.failure;
    if (this.id === undefined) {
      // Nothing went to the worker: every byte is in the current buffer, if any.
      const hash = createHash('sha256');
      if (this.current >= 0) hash.update(this.views[this.current]!.subarray(0, this.fill));
      return hash.digest('hex');
    }
    this.dispatch();
    const id = this.id;
    return new Promise<string>((resolve, reject) => {
      this.result = { resolve, reject };
      sharedWorker.post({ op: 'digest', id });
    });
  }

  dispose(): void {
    this.ended = true;
    if (this.id !== undefined) sharedWorker.close(this.id);
  }

  private async takeSlab(): Promise<number> {
    while (this.free.length === 0 && this.views.length >= this.maxSlabs) {
      if (this.failure) throw this.failure;
      await new Promise<void>((resolve) => (this.waiting = resolve));
    }
    if (this.failure) throw this.failure;
    const free = this.free.pop();
    if (free !== undefined) return free;
    const slab = new SharedArrayBuffer(this.slabBytes);
    this.views.push(Buffer.from(slab));
    const index = this.views.length - 1;
    if (this.id !== undefined) sharedWorker.post({ op: 'slab', id: this.id, slab: index, buffer: slab });
    return index;
  }

  /** Hands the filled part of the current buffer to the worker. */
  private dispatch(): void {
    if (this.current < 0 || this.fill === 0) return;
    const slab = this.current;
    const length = this.fill;
    this.current = -1;
    this.fill = 0;
    this.id ??= this.openOnWorker();
    sharedWorker.post({ op: 'update', id: this.id, slab, length });
  }

  private openOnWorker(): number {
    return sharedWorker.open(
      {
        freed: (slab) => {
          this.free.push(slab);
          this.wake();
        },
        digest: (hex) => this.result?.resolve(hex),
        failed: (error) => {
          this.failure = error;
          this.result?.reject(error);
          this.wake();
        },
      },
      this.views.map((v) => v.buffer as SharedArrayBuffer),
    );
  }

  private wake(): void {
    const waiting = this.waiting;
    this.waiting = undefined;
    waiting?.();
  }
}
