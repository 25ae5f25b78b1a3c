/**
 * The conformance suite every {@link BlobStore} must pass: one Jest `describe`
 * that each backend's test file runs with its own factory.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { BlobStore } from '../../src/storage/blob-store';
import {
  BlobNotFoundError,
  InvalidRangeError,
  InvalidSha256Error,
  InvalidUploadIdError,
  RangeNotSatisfiableError,
  UploadOffsetAheadError,
  UploadSizeMismatchError,
  UploadWriterClosedError,
} from '../../src/storage/errors';

/** A store under test and how to inspect and dispose of it. */
export interface BlobStoreFixture {
  /** The store. */
  store: BlobStore;
  /** Whatever is left in the staging area of an upload (file names, object names, row keys): empty when nothing is. */
  staged(uploadId: string): Promise<string[]>;
  /** Closes the store and removes what the fixture created. */
  cleanup(): Promise<void>;
}

/** Size of the large round-trip: 8 MiB. */
const LARGE_BYTES = 8 * 1024 * 1024;
/** Chunk size of the large round-trip: 64 KiB. */
const LARGE_CHUNK = 64 * 1024;
/** The large round-trip syncs every this many chunks: 64 syncs, so more than 32 GCS parts. */
const LARGE_SYNC_EVERY = 2;

/**
 * Lowercase hex SHA-256 of some bytes.
 *
 * @param data - The bytes.
 */
export function sha256Of(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/**
 * Reads a stream to the end.
 *
 * @param stream - A byte stream.
 */
export async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Uint8Array));
  return Buffer.concat(chunks);
}

/**
 * Splits bytes into chunks of the given sizes, cycling through them.
 *
 * @param data - The bytes.
 * @param sizes - Chunk sizes to cycle through.
 */
function chunked(data: Buffer, sizes: readonly number[]): Buffer[] {
  const out: Buffer[] = [];
  for (let at = 0, i = 0; at < data.length; i++) {
    const size = sizes[i % sizes.length]!;
    out.push(data.subarray(at, at + size));
    at += size;
  }
  return out;
}

/**
 * Runs the conformance suite against one backend.
 *
 * @param label - Name of the suite, e.g. `FileBlobStore`.
 * @param factory - Creates the store (once for the suite) and its inspection hooks.
 */
export function describeBlobStore(label: string, factory: () => Promise<BlobStoreFixture>): void {
  describe(`${label} (BlobStore conformance)`, () => {
    let fixture: BlobStoreFixture;
    let store: BlobStore;

    beforeAll(async () => {
      fixture = await factory();
      store = fixture.store;
    });

    afterAll(async () => {
      await fixture?.cleanup();
    });

    /** Stages `chunks` in a new upload, closes the writer and commits under the bytes' digest. */
    async function upload(chunks: readonly Uint8Array[], uploadId = randomUUID()): Promise<{ sha256: string; size: number; location: Record<string, unknown> }> {
      const data = Buffer.concat(chunks);
      const writer = await store.openUpload(uploadId, 0);
      for (const chunk of chunks) await writer.write(chunk);
      expect(await writer.close()).toBe(data.length);
      const sha256 = sha256Of(data);
      const location = await store.commitUpload(uploadId, sha256, data.length);
      return { sha256, size: data.length, location };
    }

    it('has a versioned storage name', () => {
      expect(store.name).toMatch(/^griot\.[a-z]+@v\d+$/);
    });

    it('commits an upload written in several chunks, then stats, locates and reads it back', async () => {
      const data = randomBytes(300_000);
      const uploadId = randomUUID();
      const { sha256, location } = await upload(chunked(data, [1, 1000, 65_536, 7]), uploadId);
      expect(location).toEqual(store.locate(sha256));
      expect(JSON.stringify(location)).toContain(sha256);
      expect(await store.stat(sha256)).toEqual({ size: data.length });
      expect((await readAll(store.read(sha256))).equals(data)).toBe(true);
      expect(await fixture.staged(uploadId)).toEqual([]);
    });

    it('commits and reads an empty blob', async () => {
      const { sha256 } = await upload([]);
      expect(await store.stat(sha256)).toEqual({ size: 0 });
      expect((await readAll(store.read(sha256))).length).toBe(0);
    });

    describe('ranged reads', () => {
      const data = randomBytes(100_000);
      let sha256: string;

      beforeAll(async () => {
        ({ sha256 } = await upload([data]));
      });

      it.each([
        ['from an offset to the end', { offset: 12_345 }, data.subarray(12_345)],
        ['an offset and a length', { offset: 10, length: 100 }, data.subarray(10, 110)],
        ['a length past the end, cut at the end', { offset: data.length - 5, length: 100 }, data.subarray(data.length - 5)],
        ['zero bytes at the end', { offset: data.length }, Buffer.alloc(0)],
        ['zero bytes by length', { offset: 50, length: 0 }, Buffer.alloc(0)],
        ['a range crossing read-chunk boundaries', { offset: 1, length: 99_998 }, data.subarray(1, 99_999)],
      ])('reads %s', async (_name, range, expected) => {
        expect((await readAll(store.read(sha256, range))).equals(expected)).toBe(true);
      });

      it('rejects an offset past the end with RangeNotSatisfiableError', async () => {
        const error = await readAll(store.read(sha256, { offset: data.length + 1 })).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(RangeNotSatisfiableError);
        expect(error).toMatchObject({ reason: 'OUT_OF_RANGE', offset: data.length + 1, size: data.length });
      });

      it('rejects a negative offset or length with InvalidRangeError', async () => {
        await expect(readAll(store.read(sha256, { offset: -1 }))).rejects.toBeInstanceOf(InvalidRangeError);
        await expect(readAll(store.read(sha256, { offset: 0, length: -1 }))).rejects.toBeInstanceOf(InvalidRangeError);
      });
    });

    describe('resuming an upload', () => {
      it('drops unsynced bytes of a crashed attempt when reopened at the synced offset', async () => {
        const uploadId = randomUUID();
        const first = randomBytes(100_000);
        // More than one staged part's worth, so that some of it may have reached storage.
        const lost = randomBytes(300_000);
        const rest = randomBytes(150_000);
        const crashed = await store.openUpload(uploadId, 0);
        await crashed.write(first);
        expect(await crashed.sync()).toBe(first.length);
        await crashed.write(lost);
        await crashed.destroy();

        const resumed = await store.openUpload(uploadId, first.length);
        expect((await readAll(store.readUpload(uploadId, first.length))).equals(first)).toBe(true);
        await resumed.write(rest);
        expect(await resumed.close()).toBe(first.length + rest.length);
        const whole = Buffer.concat([first, rest]);
        await store.commitUpload(uploadId, sha256Of(whole), whole.length);
        expect((await readAll(store.read(sha256Of(whole)))).equals(whole)).toBe(true);
        expect(await fixture.staged(uploadId)).toEqual([]);
      });

      it('drops synced bytes past the offset the service recorded', async () => {
        const uploadId = randomUUID();
        const [a, b, c] = [randomBytes(70_000), randomBytes(90_000), randomBytes(50_000)];
        const crashed = await store.openUpload(uploadId, 0);
        await crashed.write(a);
        await crashed.sync();
        await crashed.write(b);
        expect(await crashed.sync()).toBe(a.length + b.length);
        await crashed.destroy();

        const resumed = await store.openUpload(uploadId, a.length);
        await resumed.write(c);
        await resumed.close();
        const whole = Buffer.concat([a, c]);
        await expect(store.commitUpload(uploadId, sha256Of(whole), whole.length + 1)).rejects.toBeInstanceOf(UploadSizeMismatchError);
        await store.commitUpload(uploadId, sha256Of(whole), whole.length);
        expect((await readAll(store.read(sha256Of(whole)))).equals(whole)).toBe(true);
      });

      it('refuses to continue past the durable staged bytes, naming their size', async () => {
        const uploadId = randomUUID();
        const writer = await store.openUpload(uploadId, 0);
        await writer.write(randomBytes(1000));
        await writer.sync();
        await writer.destroy();
        const error = await store.openUpload(uploadId, 1010).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(UploadOffsetAheadError);
        expect(error).toMatchObject({ reason: 'UPLOAD_OFFSET_AHEAD', offset: 1010, durableSize: 1000 });
        await expect(store.openUpload(randomUUID(), 5)).rejects.toMatchObject({ reason: 'UPLOAD_OFFSET_AHEAD', durableSize: 0 });
        await store.abortUpload(uploadId);
      });

      it('starts over when reopened at offset 0', async () => {
        const uploadId = randomUUID();
        const old = await store.openUpload(uploadId, 0);
        await old.write(randomBytes(5000));
        await old.close();
        const fresh = Buffer.from('fresh start');
        const writer = await store.openUpload(uploadId, 0);
        await writer.write(fresh);
        await writer.close();
        await store.commitUpload(uploadId, sha256Of(fresh), fresh.length);
        expect((await readAll(store.read(sha256Of(fresh)))).equals(fresh)).toBe(true);
      });
    });

    it('streams back the staged prefix of an upload', async () => {
      const uploadId = randomUUID();
      const data = randomBytes(400_000);
      const writer = await store.openUpload(uploadId, 0);
      await writer.write(data.subarray(0, 123_456));
      await writer.sync();
      await writer.write(data.subarray(123_456));
      await writer.sync();
      expect((await readAll(store.readUpload(uploadId, 10))).equals(data.subarray(0, 10))).toBe(true);
      expect((await readAll(store.readUpload(uploadId, 200_000))).equals(data.subarray(0, 200_000))).toBe(true);
      expect((await readAll(store.readUpload(uploadId, data.length))).equals(data)).toBe(true);
      expect((await readAll(store.readUpload(uploadId, 0))).length).toBe(0);
      await expect(readAll(store.readUpload(uploadId, data.length + 1))).rejects.toMatchObject({
        reason: 'UPLOAD_OFFSET_AHEAD',
        durableSize: data.length,
      });
      await writer.destroy();
      await store.abortUpload(uploadId);
    });

    it('commits create-only: an existing digest keeps its original bytes and the staged copy is dropped', async () => {
      const original = randomBytes(20_000);
      const { sha256 } = await upload([original]);
      const impostor = randomBytes(20_000);
      const uploadId = randomUUID();
      const writer = await store.openUpload(uploadId, 0);
      await writer.write(impostor);
      await writer.close();
      expect(await store.commitUpload(uploadId, sha256, impostor.length)).toEqual(store.locate(sha256));
      expect((await readAll(store.read(sha256))).equals(original)).toBe(true);
      expect(await fixture.staged(uploadId)).toEqual([]);
      // A retried commit of an upload already committed succeeds too.
      expect(await store.commitUpload(uploadId, sha256, impostor.length)).toEqual(store.locate(sha256));
    });

    it('aborts an upload leaving nothing staged, and aborting twice or an unknown upload is fine', async () => {
      const uploadId = randomUUID();
      const writer = await store.openUpload(uploadId, 0);
      await writer.write(randomBytes(300_000));
      await writer.sync();
      await writer.write(randomBytes(10_000));
      await writer.destroy();
      expect((await fixture.staged(uploadId)).length).toBeGreaterThan(0);
      await store.abortUpload(uploadId);
      expect(await fixture.staged(uploadId)).toEqual([]);
      await store.abortUpload(uploadId);
      await store.abortUpload(randomUUID());
    });

    it('deletes a blob: stat is then undefined, reads fail, and deleting again is fine', async () => {
      const { sha256 } = await upload([randomBytes(1000)]);
      await store.delete(sha256);
      expect(await store.stat(sha256)).toBeUndefined();
      await expect(readAll(store.read(sha256))).rejects.toBeInstanceOf(BlobNotFoundError);
      await store.delete(sha256);
    });

    it('reports a missing blob: stat undefined, read BlobNotFoundError', async () => {
      const missing = sha256Of(randomBytes(16));
      expect(await store.stat(missing)).toBeUndefined();
      const error = await readAll(store.read(missing)).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(BlobNotFoundError);
      expect(error).toMatchObject({ reason: 'BLOB_NOT_FOUND', sha256: missing, storageName: store.name });
    });

    it('round-trips a multi-MiB blob written in 64 KiB chunks with many syncs', async () => {
      const data = randomBytes(LARGE_BYTES);
      const uploadId = randomUUID();
      const writer = await store.openUpload(uploadId, 0);
      let chunks = 0;
      for (let at = 0; at < data.length; at += LARGE_CHUNK) {
        await writer.write(data.subarray(at, at + LARGE_CHUNK));
        if (++chunks % LARGE_SYNC_EVERY === 0) expect(await writer.sync()).toBe(at + LARGE_CHUNK);
      }
      expect(await writer.close()).toBe(data.length);
      const sha256 = sha256Of(data);
      await store.commitUpload(uploadId, sha256, data.length);
      expect(await store.stat(sha256)).toEqual({ size: data.length });
      const hash = createHash('sha256');
      let received = 0;
      for await (const chunk of store.read(sha256)) {
        hash.update(chunk as Buffer);
        received += (chunk as Buffer).length;
      }
      expect(received).toBe(data.length);
      expect(hash.digest('hex')).toBe(sha256);
      expect(await fixture.staged(uploadId)).toEqual([]);
    });

    it('commits concurrent uploads of the same bytes, both successfully', async () => {
      const data = randomBytes(200_000);
      const [one, two] = await Promise.all([upload(chunked(data, [65_536])), upload(chunked(data, [10_000]))]);
      expect(one.location).toEqual(two.location);
      expect((await readAll(store.read(one.sha256))).equals(data)).toBe(true);
    });

    it('rejects malformed digests and upload ids', async () => {
      await expect(readAll(store.read('not-a-digest'))).rejects.toBeInstanceOf(InvalidSha256Error);
      await expect(store.stat('A'.repeat(64))).rejects.toBeInstanceOf(InvalidSha256Error);
      expect(() => store.locate('../etc/passwd')).toThrow(InvalidSha256Error);
      await expect(store.openUpload('../../etc', 0)).rejects.toBeInstanceOf(InvalidUploadIdError);
      await expect(store.abortUpload('x/y')).rejects.toBeInstanceOf(InvalidUploadIdError);
    });

    it('refuses writes after close', async () => {
      const uploadId = randomUUID();
      const writer = await store.openUpload(uploadId, 0);
      await writer.write(Buffer.from('abc'));
      await writer.close();
      await expect(writer.write(Buffer.from('def'))).rejects.toBeInstanceOf(UploadWriterClosedError);
      await store.abortUpload(uploadId);
    });
  });
}
