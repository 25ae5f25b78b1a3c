import { status } from '@grpc/grpc-js';
import { GriotError } from './errors';
import { decodePageToken, encodePageToken, resolvePageSize, stableJson } from './pagination';

function reasonOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    if (err instanceof GriotError && err.code === status.INVALID_ARGUMENT) return err.reason;
    throw err;
  }
  return undefined;
}

describe('page sizes', () => {
  const bounds = { defaultSize: 50, maxSize: 1000 };
  it('uses the default for 0 and lowers large sizes to the maximum', () => {
    expect(resolvePageSize(0, bounds)).toBe(50);
    expect(resolvePageSize(7, bounds)).toBe(7);
    expect(resolvePageSize(5000, bounds)).toBe(1000);
  });
  it('rejects negative sizes with a field violation', () => {
    expect(reasonOf(() => resolvePageSize(-1, bounds))).toBe('INVALID_PAGE_SIZE');
    try {
      resolvePageSize(-1, bounds);
    } catch (err) {
      expect((err as GriotError).fieldViolations).toEqual([{ field: 'page_size', description: expect.stringContaining('-1') }]);
    }
  });
});

describe('page tokens', () => {
  const query = { tags: { env: 'prod', team: 'a' }, classId: 'c' };
  it('round-trip the cursor for the same query, whatever the key order', () => {
    const token = encodePageToken(query, { t: '2026-01-01T00:00:00Z', id: 'x' });
    expect(decodePageToken(token, { classId: 'c', tags: { team: 'a', env: 'prod' } })).toEqual({ t: '2026-01-01T00:00:00Z', id: 'x' });
  });
  it('mean the first page when empty', () => {
    expect(decodePageToken('', query)).toBeUndefined();
  });
  it('are refused for another query', () => {
    const token = encodePageToken(query, { id: 'x' });
    expect(reasonOf(() => decodePageToken(token, { ...query, classId: 'd' }))).toBe('PAGE_TOKEN_QUERY_MISMATCH');
  });
  it.each(['garbage!', Buffer.from('{"v":1}').toString('base64url'), Buffer.from('[1]').toString('base64url')])(
    'are refused when malformed (%s)',
    (token) => {
      expect(reasonOf(() => decodePageToken(token, query))).toBe('INVALID_PAGE_TOKEN');
    },
  );
});

describe('stableJson', () => {
  it('sorts keys recursively and drops undefined', () => {
    expect(stableJson({ b: 1, a: { d: [2, { z: 1, y: 2 }], c: undefined } })).toBe('{"a":{"d":[2,{"y":2,"z":1}]},"b":1}');
  });
});
