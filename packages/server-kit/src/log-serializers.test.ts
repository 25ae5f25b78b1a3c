/**
 * A failing query with a huge parameter logs a line of a few KiB, on
 * PostgreSQL and PGlite: the logger factory's `err` serializer cuts the
 * message (knex writes every binding into it), the stack, PGlite's `params`
 * and every other field.
 */
import { Writable } from 'node:stream';
import { openDatabase, type Database } from './database';
import { createLogger, silentLogger } from './logger';
import { boundSerializedError, LOGGED_ERROR_MAX_CHARS, truncateString } from './log-serializers';
import { createPostgresDatabase, DB_KINDS } from '@griot/test/support/database';

/** A logger writing JSON lines into an array. */
function capturingLogger(): { logger: ReturnType<typeof createLogger>; lines: string[] } {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      lines.push(...chunk.toString('utf8').split('\n').filter((l) => l !== ''));
      callback();
    },
  });
  return { logger: createLogger({ level: 'info', name: 'test', destination }), lines };
}

describe.each(DB_KINDS)('a database error on %s', (kind) => {
  let db: Database;
  let drop: (() => Promise<void>) | undefined;

  beforeAll(async () => {
    const pg = kind === 'postgres' ? await createPostgresDatabase() : undefined;
    drop = pg?.drop;
    db = await openDatabase({ url: pg?.url, dataDir: ':memory:', name: 'log-test', logger: silentLogger(), poolMax: 2 });
  });

  afterAll(async () => {
    await db?.close();
    await drop?.();
  });

  it('with a 1 MiB parameter logs a line of a few KiB that still says what failed', async () => {
    const huge = 'x'.repeat(1024 * 1024);
    const err = await db.knex.raw('SELECT ?::int AS n, ?::text AS t', [huge, 'small']).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(Error);
    // What would be logged without the serializer.
    expect(JSON.stringify({ message: (err as Error).message, ...(err as object) }).length).toBeGreaterThan(1024 * 1024);

    const { logger, lines } = capturingLogger();
    logger.error({ err }, 'unexpected error');
    expect(lines).toHaveLength(1);
    const line = lines[0]!;
    // About 1 MiB without the serializer (2 MiB with PGlite's params).
    expect(line.length).toBeLessThan(LOGGED_ERROR_MAX_CHARS + 1024);
    const logged = JSON.parse(line) as { err: Record<string, unknown>; msg: string };
    expect(logged.msg).toBe('unexpected error');
    // SQLSTATE 22P02 (invalid input syntax for type integer), the SQL's start and PostgreSQL's reason remain.
    expect(logged.err['code']).toBe('22P02');
    expect(logged.err['message']).toEqual(expect.stringContaining('SELECT'));
    expect(logged.err['message']).toEqual(expect.stringMatching(/chars cut/));
    expect(String(logged.err['stack'])).toEqual(expect.stringContaining('    at '));
  });
});

describe('boundSerializedError', () => {
  it('cuts each string field to 200 characters, arrays to 20 items, nesting to 4 levels', () => {
    const out = boundSerializedError({
      type: 'Error',
      message: 'short',
      stack: 'Error: short\n    at here',
      detail: 'd'.repeat(500),
      params: Array.from({ length: 50 }, (_, i) => `p${i}`),
      deep: { a: { b: { c: { d: { e: 1 } } } } },
      bytes: Buffer.alloc(10_000),
    });
    expect(out['detail']).toBe(`${'d'.repeat(200)}…[300 chars cut]…`);
    expect(out['params']).toHaveLength(21);
    expect((out['params'] as string[])[20]).toBe('…[30 more items]');
    expect(out['deep']).toEqual({ a: { b: { c: '[object]' } } });
    expect(out['bytes']).toBe('[10000 bytes]');
    expect(out['message']).toBe('short');
    expect(out['stack']).toBe('Error: short\n    at here');
  });

  it('keeps the whole under the limit by dropping the largest fields but type, message, code and stack', () => {
    const many = Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`field${i}`, 'v'.repeat(190)]));
    const out = boundSerializedError({ type: 'Error', message: 'm', code: 'X', stack: 's', ...many });
    expect(JSON.stringify(out).length).toBeLessThanOrEqual(LOGGED_ERROR_MAX_CHARS);
    expect(out).toMatchObject({ type: 'Error', message: 'm', code: 'X', stack: 's', truncated: true });
  });

  it('keeps the head and tail of a long message', () => {
    expect(truncateString(`${'a'.repeat(50)}${'b'.repeat(50)}`, 20, 5)).toBe(`${'a'.repeat(15)}…[80 chars cut]…bbbbb`);
  });
});
