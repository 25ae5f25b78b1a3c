import { Code, GriotError } from '@griot/server-kit';
import { UnknownStorageError } from '../storage/errors';
import { fromStorageError } from './storage-errors';

function systemError(code: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: write`), { code, syscall: 'write' });
}

describe('fromStorageError', () => {
  it.each(['ENOSPC', 'EDQUOT'])('makes a full disk (%s) RESOURCE_EXHAUSTED STORAGE_FULL, not INTERNAL', (code) => {
    const mapped = fromStorageError(systemError(code));
    expect(mapped).toBeInstanceOf(GriotError);
    expect(mapped).toMatchObject({ code: Code.RESOURCE_EXHAUSTED, reason: 'STORAGE_FULL' });
    expect((mapped as GriotError).message).toContain(`no space left (${code})`);
  });

  it.each(['EMFILE', 'ENFILE'])('makes running out of files (%s) RESOURCE_EXHAUSTED TOO_MANY_OPEN_FILES with a retry hint, not INTERNAL', (code) => {
    const mapped = fromStorageError(systemError(code));
    expect(mapped).toMatchObject({ code: Code.RESOURCE_EXHAUSTED, reason: 'TOO_MANY_OPEN_FILES', metadata: { errno: code, retryAfterSeconds: '5' } });
    expect((mapped as GriotError).message).toMatch(/retry/);
  });

  it('names the configured storages for an unknown one', () => {
    const mapped = fromStorageError(new UnknownStorageError('griot.s3@v1', ['griot.file@v1']));
    expect(mapped).toMatchObject({ code: Code.INVALID_ARGUMENT, reason: 'UNKNOWN_STORAGE' });
  });

  it('leaves other errors alone', () => {
    const other = systemError('EIO');
    expect(fromStorageError(other)).toBe(other);
  });
});
