import { decodeCompactJws, encodeJsonPart } from './compact-jws';

const header = encodeJsonPart({ alg: 'EdDSA' });
const payload = encodeJsonPart({ iss: 'x' });
const signature = Buffer.alloc(64, 1).toString('base64url');

describe('decodeCompactJws', () => {
  it('decodes the three parts and keeps the exact signing input', () => {
    const jws = decodeCompactJws(`${header}.${payload}.${signature}`, 1000);
    expect(jws.header).toEqual({ alg: 'EdDSA' });
    expect(jws.payload).toEqual({ iss: 'x' });
    expect(jws.signingInput.toString('ascii')).toBe(`${header}.${payload}`);
    expect(jws.signature).toEqual(Buffer.alloc(64, 1));
  });

  it('accepts an empty signature so that alg "none" can be named as the problem', () => {
    expect(decodeCompactJws(`${header}.${payload}.`, 1000).signature).toHaveLength(0);
  });

  it.each([
    ['a non-string', 42],
    ['two parts', `${header}.${payload}`],
    ['four parts', `${header}.${payload}.${signature}.x`],
    ['padding', `${header}.${payload}.${signature}==`],
    ['standard base64 characters', `${header}.${payload}.${signature.slice(0, -2)}+/`],
    ['a non-canonical last character', `${header}.${payload}.${signature.slice(0, -1)}B`],
    ['an empty header', `.${payload}.${signature}`],
    ['a header that is not JSON', `${Buffer.from('{alg').toString('base64url')}.${payload}.${signature}`],
    ['a payload that is a JSON array', `${header}.${encodeJsonPart(['iss'])}.${signature}`],
    ['a payload that is JSON null', `${header}.${encodeJsonPart(null)}.${signature}`],
    ['a token over the length limit', `${header}.${payload}.${signature}`.padEnd(1001, 'A')],
  ])('rejects %s with MALFORMED_TOKEN', (_case, token) => {
    expect(() => decodeCompactJws(token as string, 1000)).toThrow(
      expect.objectContaining({ name: 'TokenError', reason: 'MALFORMED_TOKEN' }),
    );
  });
});
