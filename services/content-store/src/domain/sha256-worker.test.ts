import { createHash, randomBytes } from 'node:crypto';
import { sha256Stream } from './sha256-worker';

const KiB = 1024;
const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

/** Feeds `data` in chunks of the given sizes, in turn, and answers the digest. */
async function digestInChunks(data: Buffer, sizes: number[], expected: number | undefined, options = { slabBytes: 64 * KiB, slabs: 2 }): Promise<string> {
  const hash = sha256Stream(expected, options);
  let at = 0;
  for (let i = 0; at < data.length; i++) {
    const n = sizes[i % sizes.length]!;
    const chunk = Buffer.from(data.subarray(at, at + n));
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
