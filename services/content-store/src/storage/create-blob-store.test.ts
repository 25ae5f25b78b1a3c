import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import knexFactory, { type Knex } from 'knex';
import { createBlobStores } from './create-blob-store';
import { DatabaseBlobStore } from './database-store';
import { InvalidStorageConfigError, UnknownStorageError } from './errors';
import { FileBlobStore } from './file-store';
import { GcsBlobStore } from './gcs-store';

describe('createBlobStores', () => {
  let root: string;
  // Never connects: knex opens connections on the first query only.
  let stubKnex: Knex;

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'griot-factory-'));
    stubKnex = knexFactory({ client: 'pg', connection: 'postgres://nobody@127.0.0.1:1/none' });
  });

  afterAll(async () => {
    await stubKnex.destroy();
    await rm(root, { recursive: true, force: true });
  });

  it('builds the file store alone, as the default', () => {
    const stores = createBlobStores({ file: { root } });
    expect(stores.default).toBeInstanceOf(FileBlobStore);
    expect(stores.get('griot.file@v1')).toBe(stores.default);
    expect(stores.all().map((s) => s.name)).toEqual(['griot.file@v1']);
  });

  it('builds every configured store and prefers GCS as the default', () => {
    const stores = createBlobStores(
      { file: { root }, gcs: { bucket: 'b', apiEndpoint: 'http://127.0.0.1:1', projectId: 'test' }, database: { maxBytes: 4096 } },
      { knex: stubKnex },
    );
    expect(stores.all().map((s) => s.name)).toEqual(['griot.file@v1', 'griot.gcs@v1', 'griot.database@v1']);
    expect(stores.default).toBeInstanceOf(GcsBlobStore);
    expect((stores.get('griot.database@v1') as DatabaseBlobStore).maxBytes).toBe(4096);
  });

  it('honours an explicit default', () => {
    const stores = createBlobStores({ file: { root }, database: {}, default: 'database' }, { knex: stubKnex });
    expect(stores.default).toBeInstanceOf(DatabaseBlobStore);
  });

  it('throws UnknownStorageError naming the configured storages', () => {
    const stores = createBlobStores({ file: { root } });
    const error = (() => {
      try {
        return stores.get('griot.s3@v1');
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(UnknownStorageError);
    expect(error).toMatchObject({ reason: 'UNKNOWN_STORAGE', storageName: 'griot.s3@v1', knownNames: ['griot.file@v1'] });
  });

  it.each([
    ['nothing configured', {}, {}, 'storage'],
    ['a database store without a database', { database: {} }, {}, 'database'],
    ['a default that is not configured', { file: { root: '/tmp/x' }, default: 'gcs' as const }, {}, 'default'],
    ['a non-positive size limit', { database: { maxBytes: 0 } }, { withKnex: true }, 'database.maxBytes'],
    ['a GCS store without a bucket', { gcs: { bucket: '' } }, {}, 'gcs.bucket'],
  ])('rejects %s', (_name, config, deps, field) => {
    const build = () => createBlobStores(config, 'withKnex' in deps ? { knex: stubKnex } : {});
    expect(build).toThrow(InvalidStorageConfigError);
    expect(build).toThrow(expect.objectContaining({ reason: 'INVALID_STORAGE_CONFIG', field }));
  });

  it('closes every store', async () => {
    const stores = createBlobStores({ file: { root } });
    await expect(stores.close()).resolves.toBeUndefined();
  });
});
