import { randomBytes, randomUUID } from 'node:crypto';
import { createTestDatabase, DB_KINDS, type TestDatabase } from '@griot/test/support/database';
import { BLOB_DATA_TABLE, UPLOAD_PARTS_TABLE } from '../../src/storage/database-tables';
import { DatabaseBlobStore, DATABASE_CHUNK_BYTES, DEFAULT_DATABASE_MAX_BYTES } from '../../src/storage/database-store';
import { describeBlobStore, readAll, sha256Of } from '../support/describe-blob-store';
import { BlobTooLargeError } from '../../src/storage/errors';

/** Large enough for the suite's 8 MiB round-trip. */
const SUITE_MAX_BYTES = 16 * 1024 * 1024;

for (const kind of DB_KINDS) {
  describeBlobStore(`DatabaseBlobStore on ${kind}`, async () => {
    const database = await createTestDatabase(kind, 'content-store');
    const store = new DatabaseBlobStore({ knex: database.db.knex, maxBytes: SUITE_MAX_BYTES });
    return {
      store,
      staged: async (uploadId) => {
        const rows = await database.db.knex(UPLOAD_PARTS_TABLE).where({ upload_id: uploadId }).select('start_offset');
        return rows.map((row: { start_offset: unknown }) => `${uploadId}@${String(row.start_offset)}`);
      },
      cleanup: async () => {
        await store.close();
        await database.drop();
      },
    };
  });

  describe(`DatabaseBlobStore on ${kind}: limits and layout`, () => {
    let database: TestDatabase;
    let store: DatabaseBlobStore;

    beforeAll(async () => {
      database = await createTestDatabase(kind, 'content-store');
      store = new DatabaseBlobStore({ knex: database.db.knex, maxBytes: 600 * 1024 });
    });

    afterAll(async () => {
      await database?.drop();
    });

    it('defaults to a 1 MiB limit', () => {
      expect(new DatabaseBlobStore({ knex: database.db.knex }).maxBytes).toBe(DEFAULT_DATABASE_MAX_BYTES);
      expect(DEFAULT_DATABASE_MAX_BYTES).toBe(1024 * 1024);
    });

    it('refuses a write that would pass the size limit, naming the limit', async () => {
      const uploadId = randomUUID();
      const writer = await store.openUpload(uploadId, 0);
      await writer.write(randomBytes(500 * 1024));
      const error = await writer.write(randomBytes(200 * 1024)).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(BlobTooLargeError);
      expect(error).toMatchObject({ reason: 'BLOB_TOO_LARGE', limit: 600 * 1024, size: 700 * 1024 });
      await writer.destroy();
      await store.abortUpload(uploadId);
    });

    it('stages 256 KiB part rows and records the blob as table and sha256', async () => {
      const uploadId = randomUUID();
      const data = randomBytes(DATABASE_CHUNK_BYTES * 2 + 100);
      const writer = await store.openUpload(uploadId, 0);
      for (let at = 0; at < data.length; at += 10_000) await writer.write(data.subarray(at, at + 10_000));
      await writer.close();
      const rows = await database.db.knex(UPLOAD_PARTS_TABLE).where({ upload_id: uploadId }).orderBy('start_offset').select('start_offset');
      expect(rows.map((r: { start_offset: unknown }) => Number(r.start_offset))).toEqual([0, DATABASE_CHUNK_BYTES, DATABASE_CHUNK_BYTES * 2]);
      const sha256 = sha256Of(data);
      expect(await store.commitUpload(uploadId, sha256, data.length)).toEqual({ table: 'content_blob_data', sha256 });
      const [blob] = await database.db.knex(BLOB_DATA_TABLE).where({ sha256 }).select('size');
      expect(Number(blob.size)).toBe(data.length);
    });

    it('resumes inside a part row by cutting it at the offset', async () => {
      const uploadId = randomUUID();
      const data = randomBytes(1000);
      const first = await store.openUpload(uploadId, 0);
      await first.write(data);
      await first.sync();
      await first.destroy();
      const resumed = await store.openUpload(uploadId, 600);
      const tail = Buffer.from('tail');
      await resumed.write(tail);
      await resumed.close();
      const whole = Buffer.concat([data.subarray(0, 600), tail]);
      expect((await readAll(store.readUpload(uploadId, whole.length))).equals(whole)).toBe(true);
      await store.commitUpload(uploadId, sha256Of(whole), whole.length);
      expect((await readAll(store.read(sha256Of(whole)))).equals(whole)).toBe(true);
    });
  });
}
