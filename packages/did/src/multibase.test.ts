import { decodeBase58btc, encodeBase58btc } from './multibase';

describe('base58btc multibase', () => {
  it('round-trips bytes, keeping leading zero bytes', () => {
    const bytes = new Uint8Array([0, 0, 1, 2, 250, 255]);
    const encoded = encodeBase58btc(bytes);
    expect(encoded.startsWith('z11')).toBe(true);
    expect(Buffer.from(decodeBase58btc(encoded, 'value'))).toEqual(Buffer.from(bytes));
  });

  it('encodes the known base58btc form of "hello world"', () => {
    // Multibase spec example: base58btc("hello world") = zStV1DL6CwTryKyV.
    expect(encodeBase58btc(new TextEncoder().encode('hello world'))).toBe('zStV1DL6CwTryKyV');
  });

  it.each([
    ['another multibase prefix', 'uaGVsbG8'],
    ['no prefix at all', 'StV1DL6CwTryKyV'],
    ['an empty body', 'z'],
    ['characters outside the alphabet (0, O, I, l)', 'z0OIl'],
  ])('rejects %s with INVALID_MULTIBASE', (_case, value) => {
    expect(() => decodeBase58btc(value, 'value')).toThrow(
      expect.objectContaining({ name: 'DidError', reason: 'INVALID_MULTIBASE' }),
    );
  });
});
