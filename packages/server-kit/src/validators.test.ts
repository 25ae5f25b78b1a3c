/**
 * Unit tests of request value checks, including the JSON object check that
 * the Struct-typed contract makes unreachable through gRPC.
 */
import { GriotError } from './errors';
import { requireDid, requireJsonObject, requireNoNul, requireSha256, requireText, requireUuid } from './validators';


function reasonOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return err instanceof GriotError ? `${err.reason}: ${err.message}` : String(err);
  }
  return undefined;
}

describe('requireJsonObject', () => {
  it.each([
    [[1, 2], 'a list'],
    ['text', 'string'],
    [42, 'number'],
    [null, 'null'],
  ])('rejects %j, which is not a JSON object', (value, kind) => {
    expect(reasonOf(() => requireJsonObject('tags', value))).toBe(`NOT_A_JSON_OBJECT: tags: must be a JSON object, not ${kind}`);
  });

  it('accepts objects and treats an unset Struct as the empty object', () => {
    expect(requireJsonObject('tags', undefined)).toEqual({});
    expect(requireJsonObject('tags', { a: [1, { b: null }], c: 'x' })).toEqual({ a: [1, { b: null }], c: 'x' });
  });

  it('rejects objects larger than the limit', () => {
    expect(reasonOf(() => requireJsonObject('tags', { big: 'x'.repeat(100) }, { maxDepth: 5, maxBytes: 50 }))).toMatch(/^JSON_TOO_LARGE: tags: is \d+ bytes as JSON; the limit is 50/);
  });
});

describe('ids and digests', () => {
  it('lowercases UUIDs and rejects others', () => {
    expect(requireUuid('id', '123E4567-E89B-12D3-A456-426614174000')).toBe('123e4567-e89b-12d3-a456-426614174000');
    expect(reasonOf(() => requireUuid('id', 'x'))).toBe('INVALID_UUID: id: is not a UUID: "x"');
  });

  it('accepts only lowercase hex SHA-256', () => {
    expect(reasonOf(() => requireSha256('sha256', 'A'.repeat(64)))).toMatch(/^INVALID_SHA256/);
    expect(requireSha256('sha256', 'a'.repeat(64))).toBe('a'.repeat(64));
  });
});

describe('one reason per fault, whatever the field', () => {
  it.each([
    ['a SHA-256', () => requireSha256('package_id', '')],
    ['a UUID', () => requireUuid('job_id', '')],
    ['a did:key', () => requireDid('target_node_id', '')],
    ['text', () => requireText('unpacker_name', '')],
  ])('an empty required field (%s) is MISSING_FIELD', (_what, check) => {
    expect(reasonOf(check)).toMatch(/^MISSING_FIELD: \w+: is required/);
  });

  it('a did:key that does not parse is INVALID_DID, and a NUL in text is INVALID_CHARACTER', () => {
    expect(reasonOf(() => requireDid('owner_did', 'did:web:example.org'))).toMatch(/^INVALID_DID: owner_did: "did:web:example.org" is not an Ed25519 did:key/);
    expect(reasonOf(() => requireNoNul('reason', 'a\u0000b'))).toBe('INVALID_CHARACTER: reason: contains a NUL character');
    expect(requireNoNul('reason', '')).toBe('');
  });
});
