/**
 * Keyset paging over (creation time, unique id), the way every list of both
 * services pages: a page is the rows after the last one of the previous page
 * in (time, id) order, so pages stay consistent while rows are added, and a
 * page costs the same wherever it starts. The repositories build their
 * condition, order and cursor column here; the domain reads the cursor of a
 * page token here.
 */
import { invalidField } from './errors';

/** How a list is ordered and how its cursor holds the time. */
export interface Keyset {
  /** The time column, such as `created_at`. */
  time: string;
  /** The unique column that orders rows of the same time, such as `package_id`. */
  id: string;
  /** The SQL type the id binding is cast to, such as `uuid` (none: text). */
  idType?: string;
  /** Newest first (`desc`) or oldest first (`asc`). */
  order: 'asc' | 'desc';
  /**
   * How the cursor holds the time: `micros`, microseconds since the epoch as
   * decimal text, or `iso`, UTC ISO 8601 with microseconds. Either is exact
   * (a timestamptz has microseconds), so no row is skipped or repeated.
   */
  timeFormat: 'micros' | 'iso';
  /** What a valid id looks like, to refuse a cursor that no page of this list issued. */
  idPattern: RegExp;
}

/** The position after the last row of a page. */
export interface KeysetCursor {
  /** The row's time, in the keyset's {@link Keyset.timeFormat}. */
  t: string;
  /** The row's id. */
  id: string;
}

const TIME_PATTERNS = { micros: /^-?\d{1,20}$/, iso: /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/ };

/**
 * The SQL expression of a row's cursor time (select it `AS` a column and
 * build the cursor from it).
 * @param alias - The table alias its column is qualified with, if any.
 */
export function keysetTimeSql(keyset: Keyset, alias?: string): string {
  const column = alias ? `${alias}.${keyset.time}` : keyset.time;
  return keyset.timeFormat === 'micros'
    ? `(EXTRACT(EPOCH FROM ${column}) * 1000000)::bigint::text`
    : `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;
}

/** The condition that keeps the rows after `cursor`, with its bindings. */
export function keysetAfterSql(keyset: Keyset, cursor: KeysetCursor): { sql: string; bindings: [string, string] } {
  const time = keyset.timeFormat === 'micros' ? "TIMESTAMPTZ 'epoch' + ?::bigint * INTERVAL '1 microsecond'" : '?::timestamptz';
  const id = keyset.idType ? `?::${keyset.idType}` : '?';
  return { sql: `(${keyset.time}, ${keyset.id}) ${keyset.order === 'desc' ? '<' : '>'} (${time}, ${id})`, bindings: [cursor.t, cursor.id] };
}

/** The ORDER BY terms of the keyset. */
export function keysetOrderSql(keyset: Keyset): string {
  const direction = keyset.order === 'desc' ? ' DESC' : '';
  return `${keyset.time}${direction}, ${keyset.id}${direction}`;
}

/**
 * Reads the cursor a page token carried (see `PageTokens.decode`).
 * @returns undefined for the first page.
 * @throws INVALID_ARGUMENT INVALID_PAGE_TOKEN when it is not a cursor of this keyset.
 */
export function readKeysetCursor(raw: unknown, keyset: Keyset): KeysetCursor | undefined {
  if (raw === undefined) return undefined;
  const c = (typeof raw === 'object' && raw !== null ? raw : {}) as Partial<KeysetCursor>;
  if (typeof c.t !== 'string' || !TIME_PATTERNS[keyset.timeFormat].test(c.t) || typeof c.id !== 'string' || !keyset.idPattern.test(c.id)) {
    throw invalidField('page_token', 'INVALID_PAGE_TOKEN', 'is not a page token issued by this service');
  }
  return { t: c.t, id: c.id };
}

/**
 * A page from the rows of a query that asked for one more than `limit`: the
 * first `limit`, and whether more follow.
 */
export function keysetPage<T>(rows: T[], limit: number): { rows: T[]; more: boolean } {
  return { rows: rows.slice(0, limit), more: rows.length > limit };
}
