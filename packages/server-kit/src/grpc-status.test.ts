import { status } from '@grpc/grpc-js';
import { Code, codeName, GriotError } from './errors';
import { decodeStatusDetails } from '@griot/client';
import { toGrpcStatus } from './grpc-status';
import { WriteFailures } from './readiness';

const context = { domain: 'registry.griot.dev', requestId: 'r1' };

describe('Code', () => {
  it('has every grpc-js status under the same name and number, so a GriotError\'s code is sent as it is', () => {
    const grpcNames = Object.keys(status).filter((k) => Number.isNaN(Number(k)));
    expect(Object.keys(Code).sort()).toEqual(grpcNames.sort());
    for (const name of grpcNames) expect(Code[name as keyof typeof Code]).toBe(status[name as keyof typeof status]);
    expect(codeName(Code.NOT_FOUND)).toBe('NOT_FOUND');
  });
});

describe('toGrpcStatus of resource failures', () => {
  it.each([
    ['PostgreSQL disk_full (53100)', Object.assign(new Error('could not extend file "base/16384/16385": No space left on device'), { code: '53100' })],
    ["PGlite's could not extend file (no SQLSTATE)", new Error('could not extend file "base/5/1259": wrote only 4096 of 8192 bytes at block 7')],
    ['ENOSPC', Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' })],
  ])('makes a full disk (%s) RESOURCE_EXHAUSTED DISK_FULL saying the disk is full, never INTERNAL', (_name, err) => {
    const status = toGrpcStatus(err, context);
    expect(status.code).toBe(Code.RESOURCE_EXHAUSTED);
    expect(status.details).toMatch(/disk .*is full/);
    expect(decodeStatusDetails(status.metadata).reason).toBe('DISK_FULL');
  });

  it.each(['EMFILE', 'ENFILE'])('makes %s RESOURCE_EXHAUSTED TOO_MANY_OPEN_FILES with a retry hint', (code) => {
    const status = toGrpcStatus(Object.assign(new Error(`${code}: too many open files, open`), { code }), context);
    expect(status.code).toBe(Code.RESOURCE_EXHAUSTED);
    expect(status.details).toMatch(/retry/);
    expect(decodeStatusDetails(status.metadata)).toMatchObject({ reason: 'TOO_MANY_OPEN_FILES', metadata: { retryAfterSeconds: '5' } });
  });

  it('still makes an unknown error INTERNAL', () => {
    expect(toGrpcStatus(new Error('boom'), context).code).toBe(Code.INTERNAL);
  });
});

describe('WriteFailures (the failing-write signal of readiness)', () => {
  it('fails the check for a while after a disk-full or out-of-files error, and not for other errors', async () => {
    let now = 0;
    const signal = new WriteFailures(10_000, () => now);
    await expect(signal.check()).resolves.toBeUndefined();
    expect(signal.note(new Error('boom'))).toBe(false);
    expect(signal.note(new GriotError(Code.NOT_FOUND, 'NOT_FOUND', 'no'))).toBe(false);
    await expect(signal.check()).resolves.toBeUndefined();

    expect(signal.note(Object.assign(new Error('could not extend file'), { code: '53100' }))).toBe(true);
    now = 9_999;
    await expect(signal.check()).rejects.toThrow(/a write failed 10 s ago: 53100 could not extend file/);
    now = 10_000;
    await expect(signal.check()).resolves.toBeUndefined();

    expect(signal.note(new GriotError(Code.RESOURCE_EXHAUSTED, 'STORAGE_FULL', 'the storage has no space left'))).toBe(true);
    await expect(signal.check()).rejects.toThrow(/no space left/);
  });
});
