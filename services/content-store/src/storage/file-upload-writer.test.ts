import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { mkdtemp, open, readFile, rm, type FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AlignedSlabPool, DIRECT_IO_ALIGNMENT, isPageAligned, ReceiveBufferPool } from './aligned-slabs';
import { FileUploadWriter } from './file-upload-writer';

const SLAB = 2 * DIRECT_IO_ALIGNMENT;

describe('FileUploadWriter', () => {
  let dir: string;
  let n = 0;
  const nextPath = () => join(dir, `staging-${n++}`);

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'griot-upload-writer-'));
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function openWriter(path: string, position: number, direct: boolean | FileHandle = true, pool?: AlignedSlabPool): Promise<FileUploadWriter> {
    const handle = await open(path, constants.O_RDWR | constants.O_CREAT);
    await handle.truncate(position);
    const directHandle = direct === true ? await open(path, constants.O_WRONLY | constants.O_DIRECT) : direct === false ? undefined : direct;
    return FileUploadWriter.open('u', { handle, direct: directHandle }, position, undefined, { slabBytes: SLAB, maxSlabs: 2, pool });
  }

  /** Writes `data` in chunks of the given sizes, syncing after the chunks whose index is in `syncAfter`; answers what each sync reported. */
  async function writeInChunks(writer: FileUploadWriter, data: Buffer, sizes: number[], syncAfter: Set<number>): Promise<number[]> {
    const durable: number[] = [];
    let at = 0;
    for (let i = 0; at < data.length; i++) {
      const size = Math.min(sizes[i % sizes.length]!, data.length - at);
      await writer.write(data.subarray(at, at + size));
      at += size;
      if (syncAfter.has(i)) durable.push(await writer.sync());
    }
    return durable;
  }

  it('writes slabs direct on this file system, and every byte lands where it belongs across unaligned syncs', async () => {
    const path = nextPath();
    const writer = await openWriter(path, 0);
    expect(writer.directIo).toBe(true);
    const data = randomBytes(10 * SLAB + 1234);
    // Odd chunk sizes put each sync at a different offset within a 4 KiB block and within a slab.
    const durable = await writeInChunks(writer, data, [1000, 5000, 4096, 7, 12_289], new Set([0, 1, 2, 3, 5, 8, 9, 13]));
    expect(writer.directIo).toBe(true);
    expect(await writer.close()).toBe(data.length);
    // A sync reports every byte handed to the writer before it, aligned or not.
    expect(durable.slice(0, 4)).toEqual([1000, 6000, 10_096, 10_103]);
    expect((await readFile(path)).equals(data)).toBe(true);
  });

  it('resumes direct from an unaligned offset, reading back the start of its block', async () => {
    const path = nextPath();
    const data = randomBytes(5 * SLAB + 333);
    const resumeAt = 3 * DIRECT_IO_ALIGNMENT + 1808;
    const first = await openWriter(path, 0);
    await first.write(data.subarray(0, resumeAt + 500));
    await first.close();
    // Reopened at the recorded offset: the 500 bytes past it are cut, and written again.
    const resumed = await openWriter(path, resumeAt);
    expect(await resumed.sync()).toBe(resumeAt);
    await writeInChunks(resumed, data.subarray(resumeAt), [3000], new Set([0, 2]));
    expect(await resumed.close()).toBe(data.length);
    expect((await readFile(path)).equals(data)).toBe(true);
  });

  it('writes through the page cache without a direct handle', async () => {
    const path = nextPath();
    const writer = await openWriter(path, 0, false);
    expect(writer.directIo).toBe(false);
    const data = randomBytes(3 * SLAB + 99);
    await writeInChunks(writer, data, [777], new Set([1, 4]));
    expect(await writer.close()).toBe(data.length);
    expect((await readFile(path)).equals(data)).toBe(true);
  });

  it('falls back to the page cache, losing nothing, when the file system refuses a direct write', async () => {
    const path = nextPath();
    let refused = 0;
    let closed = false;
    const refusing = {
      write: () => {
        refused += 1;
        return Promise.reject(Object.assign(new Error('EINVAL: invalid argument, write'), { code: 'EINVAL' }));
      },
      close: async () => void (closed = true),
    } as unknown as FileHandle;
    const writer = await openWriter(path, 0, refusing);
    expect(writer.directIo).toBe(true);
    const data = randomBytes(4 * SLAB + 5);
    await writeInChunks(writer, data, [SLAB + 100], new Set([2]));
    expect(await writer.close()).toBe(data.length);
    expect(refused).toBeGreaterThan(0);
    expect(writer.directIo).toBe(false);
    expect(closed).toBe(true);
    expect((await readFile(path)).equals(data)).toBe(true);
  });

  it('falls back to the page cache when its slabs are not aligned (the kernel refuses them)', async () => {
    const path = nextPath();
    const aligned = new AlignedSlabPool(SLAB + DIRECT_IO_ALIGNMENT, 0);
    const writer = await openWriter(path, 0, true, new AlignedSlabPool(SLAB, 0, () => aligned.take().subarray(1, 1 + SLAB)));
    const data = randomBytes(3 * SLAB + 10);
    await writeInChunks(writer, data, [5000], new Set([0]));
    expect(await writer.close()).toBe(data.length);
    expect(writer.directIo).toBe(false);
    expect((await readFile(path)).equals(data)).toBe(true);
  });

  it('writes aligned received chunks from where they are, and copies the rest, every byte where it belongs', async () => {
    const path = nextPath();
    const writer = await openWriter(path, 0);
    const receive = new ReceiveBufferPool(0);
    const data = randomBytes(6 * SLAB + 100);
    // As the transport places them: each chunk's bytes at a page boundary of a buffer of its own.
    const received = (from: number, to: number) => {
      const chunk = receive.take(DIRECT_IO_ALIGNMENT + to - from).subarray(DIRECT_IO_ALIGNMENT, DIRECT_IO_ALIGNMENT + to - from);
      data.copy(chunk, 0, from, to);
      return chunk;
    };
    const cuts = [0, SLAB, 2 * SLAB, 2 * SLAB + 10, 3 * SLAB, 4 * SLAB, 5 * SLAB, data.length];
    const writes: Promise<void>[] = [];
    for (let i = 1; i < cuts.length; i++) {
      const chunk = received(cuts[i - 1]!, cuts[i]!);
      expect(isPageAligned(chunk)).toBe(true);
      writes.push(writer.write(chunk));
      // A sync after the unaligned chunk: what follows is copied until a slab ends on a block boundary again.
      if (i === 3) expect(await writer.sync()).toBe(2 * SLAB + 10);
    }
    await Promise.all(writes);
    expect(writer.directIo).toBe(true);
    expect(await writer.close()).toBe(data.length);
    expect((await readFile(path)).equals(data)).toBe(true);
  });

  it('resolves the write of a chunk written in place only once it is written', async () => {
    let finishWrite: () => void = () => undefined;
    const slow = {
      writev: (buffers: Buffer[]) => new Promise((resolve) => (finishWrite = () => resolve({ bytesWritten: buffers.reduce((n, b) => n + b.length, 0), buffers }))),
      close: async () => undefined,
    } as unknown as FileHandle;
    const writer = await openWriter(nextPath(), 0, slow);
    const chunk = new ReceiveBufferPool(0).take(SLAB);
    let resolved = false;
    const written = writer.write(chunk).then(() => (resolved = true));
    await new Promise((r) => setImmediate(r));
    expect(resolved).toBe(false);
    finishWrite();
    await written;
    expect(resolved).toBe(true);
    await writer.destroy();
  });

  it('fails the next call when a direct write fails otherwise', async () => {
    const failing = {
      write: () => Promise.reject(Object.assign(new Error('EIO: i/o error, write'), { code: 'EIO' })),
      close: async () => undefined,
    } as unknown as FileHandle;
    const writer = await openWriter(nextPath(), 0, failing);
    await writer.write(randomBytes(SLAB));
    await expect(writer.sync()).rejects.toMatchObject({ code: 'EIO' });
    await writer.destroy();
  });
});

describe('AlignedSlabPool', () => {
  it('hands out page-aligned buffers (a direct write from one succeeds) and keeps a few released ones', async () => {
    const pool = new AlignedSlabPool(SLAB, 1);
    const a = pool.take();
    const b = pool.take();
    expect(a.length).toBe(SLAB);
    const dir = await mkdtemp(join(tmpdir(), 'griot-aligned-'));
    try {
      const handle = await open(join(dir, 'f'), constants.O_WRONLY | constants.O_CREAT | constants.O_DIRECT);
      try {
        a.fill(7);
        expect((await handle.write(a, 0, SLAB, 0)).bytesWritten).toBe(SLAB);
        // The same memory one byte in is not aligned: the kernel refuses it, so the test above is not vacuous.
        await expect(handle.write(a, 1, DIRECT_IO_ALIGNMENT, 0)).rejects.toMatchObject({ code: 'EINVAL' });
      } finally {
        await handle.close();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    pool.release(a);
    pool.release(b);
    expect(pool.idleCount).toBe(1);
    expect(pool.take()).toBe(a);
  });

  it('hands out plain buffers where no WebAssembly memory can be reserved', async () => {
    const pool = new AlignedSlabPool(SLAB, 1, () => {
      throw new RangeError('WebAssembly.Memory(): could not allocate memory');
    });
    expect(pool.take().length).toBe(SLAB);
  });
});

describe('ReceiveBufferPool', () => {
  it('lends page-aligned buffers of whole pages, takes each back once, and keeps given-back ones up to its limit', () => {
    const pool = new ReceiveBufferPool(2 * 65_536);
    const a = pool.take(65_536 + 1);
    const b = pool.take(10);
    expect([a.length, b.length]).toEqual([2 * 65_536, 65_536]);
    expect(isPageAligned(a.subarray(DIRECT_IO_ALIGNMENT))).toBe(true);
    expect(isPageAligned(a.subarray(1))).toBe(false);
    expect(isPageAligned(Buffer.alloc(DIRECT_IO_ALIGNMENT))).toBe(false);
    pool.release(a.subarray(100, 200));
    pool.release(a);
    pool.release(Buffer.alloc(10));
    expect(pool.idleByteCount).toBe(2 * 65_536);
    // Over the limit: dropped.
    pool.release(b);
    expect(pool.idleByteCount).toBe(2 * 65_536);
    expect(pool.take(65_536 + 5)).toBe(a);
    expect(pool.idleByteCount).toBe(0);
  });
});
