/**
 * Keyset paging: the condition, order and cursor column each list's
 * repository builds, and the cursor a page token may carry.
 */
import { GriotError } from './errors';
import { keysetAfterSql, keysetOrderSql, keysetPage, keysetTimeSql, readKeysetCursor, type Keyset } from './keyset';

const newestFirst: Keyset = { time: 'created_at', id: 'package_id', order: 'desc', timeFormat: 'micros', idPattern: /^[0-9a-f]{64}$/ };
const oldestFirst: Keyset = { time: 'created_at', id: 'id', idType: 'uuid', order: 'asc', timeFormat: 'iso', idPattern: /^[0-9a-f-]{36}$/ };

function reasonOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return err instanceof GriotError ? err.reason : String(err);
  }
  return undefined;
}

describe('keyset SQL', () => {
  it('pages newest first after a cursor in microseconds', () => {
    expect(keysetOrderSql(newestFirst)).toBe('created_at DESC, package_id DESC');
    expect(keysetTimeSql(newestFirst, 'p')).toBe('(EXTRACT(EPOCH FROM p.created_at) * 1000000)::bigint::text');
    expect(keysetAfterSql(newestFirst, { t: '1700000000000001', id: 'a'.repeat(64) })).toEqual({
      sql: "(created_at, package_id) < (TIMESTAMPTZ 'epoch' + ?::bigint * INTERVAL '1 microsecond', ?)",
      bindings: ['1700000000000001', 'a'.repeat(64)],
    });
  });

  it('pages oldest first after a cursor in ISO 8601, casting the id', () => {
    expect(keysetOrderSql(oldestFirst)).toBe('created_at, id');
    expect(keysetTimeSql(oldestFirst)).toBe(`to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`);
    expect(keysetAfterSql(oldestFirst, { t: '2026-01-02T03:04:05.000006Z', id: '123e4567-e89b-12d3-a456-426614174000' }).sql).toBe(
      '(created_at, id) > (?::timestamptz, ?::uuid)',
    );
  });

  it('keeps `limit` rows of the `limit + 1` asked and says whether more follow', () => {
    expect(keysetPage([1, 2, 3], 2)).toEqual({ rows: [1, 2], more: true });
    expect(keysetPage([1, 2], 2)).toEqual({ rows: [1, 2], more: false });
  });
});

describe('readKeysetCursor', () => {
  it('answers undefined for the first page and the cursor of a page of this keyset', () => {
    expect(readKeysetCursor(undefined, newestFirst)).toBeUndefined();
    expect(readKeysetCursor({ t: '-5', id: 'b'.repeat(64), extra: 1 }, newestFirst)).toEqual({ t: '-5', id: 'b'.repeat(64) });
    expect(readKeysetCursor({ t: '2026-01-02T03:04:05.000006Z', id: '123e4567-e89b-12d3-a456-426614174000' }, oldestFirst)).toBeDefined();
  });

  it.each([
    ['a number', 7],
    ['null', null],
    ['a time in the other format', { t: '2026-01-02T03:04:05.000006Z', id: 'b'.repeat(64) }],
    ['an id of another shape', { t: '12', id: 'not-hex' }],
    ['no id', { t: '12' }],
  ])('refuses %s as INVALID_PAGE_TOKEN', (_what, raw) => {
    expect(reasonOf(() => readKeysetCursor(raw, newestFirst))).toBe('INVALID_PAGE_TOKEN');
  });
});
