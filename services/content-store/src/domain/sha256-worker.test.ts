import { createHash, randomBytes } from 'node:crypto';
import { sha256Stream } from './sha256-worker';

const KiB = 1024;
const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

/** Feeds `data` in chunks of the given sizes, in turn, and answers the digest. */
async function digestInChunks(data: Buffer, sizes: number[], expected: number | undefined, options = { slabBytes: 64 * KiB, slabs: 2 }, viewAt = 0): Promise<string> {
  const hash = sha256Stream(expected, options);
  let at = 0;
  for (let i = 0; at < data.length; i++) {
    const n = sizes[i % sizes.length]!;
    // With `viewAt`, each chunk is a view at that offset of a larger buffer, as a field decoded from a message is.
    const part = data.subarray(at, at + n);
    const chunk = viewAt > 0 ? Buffer.concat([Buffer.alloc(viewAt, 0xee), part, Buffer.alloc(3, 0xee)]).subarray(viewAt, viewAt + part.length) : Buffer.from(part);
    await hash.update(chunk);
    chunk.fill(0); // Taken means copied: the caller may reuse the chunk at once.
    at += n;
  }
  return hash.digest();
}

describe('sha256Stream', () => {
  it.each<[string, number, number[], number | undefined]>([
    ['nothing', 0, [1], undefined],
    ['a small input, size known (main thread)', 10 * KiB, [1000], 10 * KiB],
    ['a small input, size unknown', 10 * KiB, [1000], undefined],
    ['exactly one buffer', 64 * KiB, [64 * KiB], 64 * KiB],
    ['many buffers, chunks straddling them', 1024 * KiB + 17, [1, 70_000, 65_536, 3], 1024 * KiB + 17],
    ['chunks larger than a buffer', 900 * KiB, [300 * KiB], undefined],
  ])('gives the digest of %s', async (_name, size, sizes, expected) => {
    const data = randomBytes(size);
    expect(await digestInChunks(data, sizes, expected)).toBe(sha256(data));
  });

  it.each([1, 3, 5, 7])('copies chunks that are views at offset %i of larger buffers', async (viewAt) => {
    const data = randomBytes(300 * KiB + 11);
    expect(await digestInChunks(data, [65_536, 1_000_001, 5], undefined, { slabBytes: 64 * KiB, slabs: 2 }, viewAt)).toBe(sha256(data));
  });

  it('keeps concurrent hashes apart', async () => {
    const inputs = [randomBytes(700 * KiB), randomBytes(500 * KiB), randomBytes(900 * KiB)];
    const digests = await Promise.all(inputs.map((data, i) => digestInChunks(data, [10_000 + i * 7_000], undefined)));
    expect(digests).toEqual(inputs.map(sha256));
  });

  it('refuses use after digest, and a disposed hash leaves the others working', async () => {
    const dropped = sha256Stream(undefined, { slabBytes: 64 * KiB });
    await dropped.update(randomBytes(200 * KiB));
    dropped.dispose();
    await expect(dropped.update(Buffer.from('x'))).rejects.toThrow(/after digest or dispose/);
    const data = randomBytes(300 * KiB);
    expect(await digestInChunks(data, [50_000], undefined)).toBe(sha256(data));
    const done = sha256Stream(undefined);
    await done.digest();
    await expect(done.digest()).rejects.toThrow(/after digest or dispose/);
  });
});
