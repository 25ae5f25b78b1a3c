/**
 * A full file storage, for real: the content store's blob folder is a small
 * tmpfs this test mounts (as root). An upload that fills it ends with
 * RESOURCE_EXHAUSTED STORAGE_FULL, its upload id stays recorded at its last
 * committed size, and once space is back (the tmpfs grown) it resumes from
 * that size and completes with the right digest; meanwhile the service is not
 * ready (gRPC health NOT_SERVING: a write failed). On PostgreSQL and PGlite.
 *
 * Needs root (mount); defined only where a tmpfs can be mounted.
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { credentials, status } from '@grpc/grpc-js';
import { health } from '@griot/proto';
import { DB_KINDS } from '@griot/test/support/database';
import { canMountTmpfs, mountTmpfs, resizeTmpfs, unmountTmpfs } from '@griot/test/support/tmpfs';
import { bytesOf, expectFailure, sha256, startTestContentStore, unary, upload, uploadMessages, type TestContentStore } from '@griot/test/support/content-store';

const KiB = 1024;

if (canMountTmpfs()) {
  describe.each(DB_KINDS)('a full file storage on %s', (kind) => {
    let t: TestContentStore;
    let blobs: string;
    beforeAll(async () => {
      t = await startTestContentStore(kind, { CONTENT_UPLOAD_SYNC_BYTES: '64KiB', CONTENT_FILE_DIRECT_IO: 'off' });
      blobs = join(t.dataDir, 'content-store', 'blobs');
      mkdirSync(blobs, { recursive: true });
      mountTmpfs(blobs, '256k');
    });
    afterAll(async () => {
      // Detached at once (lazily, should the service still hold a file there), before the data folder is removed.
      unmountTmpfs(blobs);
      await t.close();
    });

    it('answers RESOURCE_EXHAUSTED STORAGE_FULL, keeps the upload, and resumes it once space is back', async () => {
      const data = bytesOf(1024 * KiB, 5);
      const uploadId = randomUUID();
      const full = await expectFailure(upload(t.client, uploadMessages(data, { uploadId, sha256: sha256(data), size: data.length }, { chunk: 32 * KiB })));
      expect(full).toMatchObject({ code: status.RESOURCE_EXHAUSTED, reason: 'STORAGE_FULL' });
      // The upload was recorded before its bytes: it is still there, at a size that fits in the tmpfs.
      const kept = await unary(t.client, 'getUploadStatus', { uploadId });
      expect(kept.complete).toBe(false);
      expect(kept.committedSize).toBeLessThan(256 * KiB);
      // The failing write made the service not ready.
      const checker = new health.HealthClient(t.service.address, credentials.createInsecure());
      try {
        const check = () =>
          new Promise<number>((resolve, reject) => checker.check({ service: '' }, (err, res) => (err ? reject(err) : resolve(res!.status))));
        expect(await check()).toBe(health.HealthCheckResponse_ServingStatus.NOT_SERVING);
      } finally {
        checker.close();
      }

      resizeTmpfs(blobs, '4m');
      const rest = uploadMessages(data.subarray(kept.committedSize), { uploadId, sha256: sha256(data), size: data.length }, { chunk: 32 * KiB, offset: kept.committedSize });
      const done = await upload(t.client, rest);
      expect(done).toMatchObject({ uploadId, complete: true, committedSize: data.length });
      expect(done.blob).toMatchObject({ sha256: sha256(data), size: data.length });
    });
  });
}
