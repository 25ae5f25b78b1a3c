import { toStorageError as fromDatabase } from './database-errors';
import { BlobNotFoundError, StorageUnavailableError } from './errors';
import { gcsStatusOf, toStorageError as fromGcs } from './gcs-errors';

describe('GCS error mapping', () => {
  it('reads the status of ApiErrors (code) and GaxiosErrors (status, response.status)', () => {
    expect(gcsStatusOf({ code: 404 })).toBe(404);
    expect(gcsStatusOf({ status: 412 })).toBe(412);
    expect(gcsStatusOf({ response: { status: 503 } })).toBe(503);
    expect(gcsStatusOf({ code: 'ECONNREFUSED' })).toBeUndefined();
  });

  it.each([{ code: 503 }, { code: 429 }, { status: 500 }, { code: 'ECONNREFUSED' }])('maps %j to StorageUnavailableError', (err) => {
    const mapped = fromGcs('griot.gcs@v1', err);
    expect(mapped).toBeInstanceOf(StorageUnavailableError);
    expect(mapped).toMatchObject({ reason: 'STORAGE_UNAVAILABLE', storageName: 'griot.gcs@v1', cause: err });
  });

  it('passes other errors and storage errors through', () => {
    const forbidden = { code: 403 };
    expect(fromGcs('griot.gcs@v1', forbidden)).toBe(forbidden);
    const notFound = new BlobNotFoundError('griot.gcs@v1', 'a'.repeat(64));
    expect(fromGcs('griot.gcs@v1', notFound)).toBe(notFound);
  });
});

describe('database error mapping', () => {
  it.each([{ code: '08006' }, { code: '57P01' }, { code: '53300' }, { code: 'ECONNREFUSED' }, { name: 'KnexTimeoutError' }])(
    'maps %j to StorageUnavailableError',
    (err) => {
      expect(fromDatabase('griot.database@v1', err)).toBeInstanceOf(StorageUnavailableError);
    },
  );

  it('passes constraint and syntax errors through', () => {
    const unique = { code: '23505' };
    expect(fromDatabase('griot.database@v1', unique)).toBe(unique);
    expect(fromDatabase('griot.database@v1', { code: '42601' })).toEqual({ code: '42601' });
  });
});
