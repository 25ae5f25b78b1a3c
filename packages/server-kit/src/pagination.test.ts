import { randomBytes } from 'node:crypto';
import { status } from '@grpc/grpc-js';
import { GriotError } from './errors';
import { ConfigError } from './config';
import { PageTokens, pageTokenKeyVar, resolvePageSize, stableJson } from './pagination';

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
  const tokens = new PageTokens(randomBytes(32));
  const decode = (token: string, q: unknown = query) => tokens.decode(token, q);

  it('round-trip the cursor for the same query, whatever the key order', () => {
    const token = tokens.encode(query, { t: '2026-01-01T00:00:00Z', id: 'x' });
    expect(decode(token, { classId: 'c', tags: { team: 'a', env: 'prod' } })).toEqual({ t: '2026-01-01T00:00:00Z', id: 'x' });
  });
  it('mean the first page when empty', () => {
    expect(decode('')).toBeUndefined();
  });
  it('are refused for another query', () => {
    const token = tokens.encode(query, { id: 'x' });
    expect(reasonOf(() => decode(token, { ...query, classId: 'd' }))).toBe('PAGE_TOKEN_QUERY_MISMATCH');
  });
  it('are accepted by another instance with the same key (another replica)', () => {
    const key = randomBytes(32);
    expect(new PageTokens(key).decode(new PageTokens(key).encode(query, { id: 'x' }), query)).toEqual({ id: 'x' });
  });

  const good = tokens.encode(query, { t: '1', id: 'x' });
  const [body, mac] = good.split('.') as [string, string];
  const payload = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as Record<string, unknown>;
  const reencoded = (changes: Record<string, unknown>) => `${Buffer.from(JSON.stringify({ ...payload, ...changes })).toString('base64url')}.${mac}`;
  const flipped = (at: number) => {
    const bytes = Buffer.from(good, 'utf8');
    bytes[at] = bytes[at] === 0x41 ? 0x42 : 0x41;
    return bytes.toString('utf8');
  };
  it.each<[string, string]>([
    ['garbage', 'garbage!'],
    ['an unsigned token of the old format', Buffer.from(JSON.stringify({ v: 1, q: payload['q'], c: { t: '1', id: 'x' } })).toString('base64url')],
    ['an odd cursor id with the old signature', reencoded({ c: { t: '1', id: "x' OR 1=1" } })],
    ['an odd timestamp with the old signature', reencoded({ c: { t: '99999999999999999999', id: 'x' } })],
    ['a flipped byte in the body', flipped(3)],
    ['a flipped byte in the signature', flipped(good.length - 5)],
    ['no signature', `${body}.`],
    ['a signature only', `.${mac}`],
    ['a token of another deployment', new PageTokens(randomBytes(32)).encode(query, { t: '1', id: 'x' })],
    ['a huge token', `${'A'.repeat(10_000)}.${mac}`],
  ])('are refused when not issued by this deployment: %s', (_what, token) => {
    expect(reasonOf(() => decode(token))).toBe('INVALID_PAGE_TOKEN');
  });

  it('need a key of at least 32 bytes', () => {
    expect(() => new PageTokens(randomBytes(31))).toThrow(RangeError);
  });
});

describe('pageTokenKeyVar', () => {
  const parse = pageTokenKeyVar();
  it('is undefined when unset or empty, the bytes of the text otherwise', () => {
    expect(parse(undefined, 'K')).toBeUndefined();
    expect(parse('  ', 'K')).toBeUndefined();
    expect(parse('k'.repeat(32), 'K')).toEqual(Buffer.from('k'.repeat(32)));
  });
  it('refuses a key shorter than 32 bytes, naming the variable', () => {
    expect(() => parse('short', 'REGISTRY_PAGE_TOKEN_KEY')).toThrow(ConfigError);
    expect(() => parse('short', 'REGISTRY_PAGE_TOKEN_KEY')).toThrow(/REGISTRY_PAGE_TOKEN_KEY.*at least 32 bytes/);
  });
});

describe('stableJson', () => {
  it('sorts keys recursively and drops undefined', () => {
    expect(stableJson({ b: 1, a: { d: [2, { z: 1, y: 2 }], c: undefined } })).toBe('{"a":{"d":[2,{"y":2,"z":1}]},"b":1}');
  });
});
