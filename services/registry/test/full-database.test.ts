/**
 * A full database, for real, on PostgreSQL: the registry's `packages` table
 * is moved to a tablespace on a small tmpfs this test mounts (as root) and
 * filled. RegisterPackage then answers RESOURCE_EXHAUSTED DISK_FULL with a
 * message saying the disk is full (SQLSTATE 53100), never INTERNAL, and the
 * registry's health goes NOT_SERVING (the failing-write signal of
 * readiness). Defined where PostgreSQL is tested and a tmpfs can be mounted;
 * PGlite's "could not extend file" is mapped the same way (unit test in
 * server-kit's grpc-status.test.ts).
 */
import { randomBytes } from 'node:crypto';
import { chownSync, mkdirSync, mkdtempSync, statSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { credentials } from '@grpc/grpc-js';
import { health, registry } from '@griot/proto';
import pg from 'pg';
import { createPostgresDatabase, DB_KINDS, POSTGRES_ADMIN_URL } from '@griot/test/support/database';
import { canMountTmpfs, mountTmpfs, unmountTmpfs } from '@griot/test/support/tmpfs';
import { call, failure, newIdentity, signedPackage, startTestRegistry, Status, type TestRegistry } from './support/harness';

const C: registry.RegistryServiceClient = registry.RegistryServiceClient.prototype;

/** The test server runs on this machine (its folders are ours to use). */
const localServer = /@(127\.0\.0\.1|localhost)[:/]/.test(POSTGRES_ADMIN_URL);

if (DB_KINDS.includes('postgres') && localServer && canMountTmpfs()) {
  describe('a full database on postgres', () => {
    let t: TestRegistry;
    let database: { url: string; drop(): Promise<void> };
    let admin: pg.Client;
    let mountPoint: string;
    const tablespace = `griot_tiny_${randomBytes(4).toString('hex')}`;

    beforeAll(async () => {
      admin = new pg.Client({ connectionString: POSTGRES_ADMIN_URL });
      await admin.connect();
      // The tablespace folder must belong to the server's user.
      const dataDirectory = (await admin.query<{ d: string }>("SELECT current_setting('data_directory') AS d")).rows[0]!.d;
      const owner = statSync(dataDirectory);
      mountPoint = mkdtempSync(join(tmpdir(), 'griot-full-db-'));
      mountTmpfs(mountPoint, '512k');
      const location = join(mountPoint, 'ts');
      mkdirSync(location);
      chownSync(location, owner.uid, owner.gid);
      await admin.query(`CREATE TABLESPACE ${tablespace} LOCATION '${location}'`);
      database = await createPostgresDatabase();
      t = await startTestRegistry('postgres', { databaseUrl: database.url });
      const db = new pg.Client({ connectionString: database.url });
      await db.connect();
      try {
        await db.query(`ALTER TABLE packages SET TABLESPACE ${tablespace}`);
        // Fill the tablespace until PostgreSQL says it is full.
        let full = false;
        for (let i = 0; i < 10_000 && !full; i++) {
          try {
            await db.query(
              `INSERT INTO packages (package_id, manifest, artifact_url, author_did, signature)
               SELECT encode(sha256((random()::text || g)::bytea), 'hex'), jsonb_build_object('pad', md5(random()::text) || repeat(md5(random()::text), 60)), 'x', 'did:key:z', 's'
                 FROM generate_series(1, 50) g`,
            );
          } catch (err) {
            expect((err as { code?: string }).code).toBe('53100');
            full = true;
          }
        }
        expect(full).toBe(true);
      } finally {
        await db.end();
      }
    });

    afterAll(async () => {
      await t?.stop();
      await database?.drop();
      await admin.query(`DROP TABLESPACE IF EXISTS ${tablespace}`).catch(() => undefined);
      await admin.end();
      unmountTmpfs(mountPoint);
      rmSync(mountPoint, { recursive: true, force: true });
    });

    it('answers RESOURCE_EXHAUSTED DISK_FULL saying the disk is full, and the registry is not ready', async () => {
      const author = newIdentity();
      const pkg = signedPackage(author, { name: 'no-room', version: '1.0.0', extra: { pad: 'p'.repeat(4000) } });
      t.store.blobs.set(pkg.packageId, pkg.size);
      const err = await failure(call(t.client, C.registerPackage, { packageId: pkg.packageId, manifest: pkg.manifest, artifactUrl: '' }));
      expect(err.code).toBe(Status.RESOURCE_EXHAUSTED);
      expect(err.details).toMatch(/disk .*is full/);
      const checker = new health.HealthClient(t.registry.address, credentials.createInsecure());
      try {
        const status = await new Promise<number>((resolve, reject) => checker.check({ service: '' }, (e, res) => (e ? reject(e) : resolve(res!.status))));
        expect(status).toBe(health.HealthCheckResponse_ServingStatus.NOT_SERVING);
      } finally {
        checker.close();
      }
    });
  });
}
