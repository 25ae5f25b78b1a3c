import { base58 } from '@scure/base';
import vector from './test-vectors/eddsa-jcs-2022.json';
import {
  decodeMultikey,
  decodePrivateKeyMultibase,
  decodePublicKeyMultibase,
  ED25519_PRIV_CODEC,
  ED25519_PUB_CODEC,
  encodeMultikey,
  encodePrivateKeyMultibase,
  encodePublicKeyMultibase,
} from './multikey';

const key32 = new Uint8Array(32).fill(7);

describe('multikey', () => {
  it('prefixes public keys with the varint bytes 0xed 0x01', () => {
    const raw = base58.decode(encodePublicKeyMultibase(key32).slice(1));
    expect([...raw.subarray(0, 2)]).toEqual([0xed, 0x01]);
    expect(raw.length).toBe(34);
  });

  it('prefixes private keys with the varint bytes 0x80 0x26 (ed25519-priv 0x1300)', () => {
    const raw = base58.decode(encodePrivateKeyMultibase(key32).slice(1));
    expect([...raw.subarray(0, 2)]).toEqual([0x80, 0x26]);
  });

  it('decodes the spec vector keys to 32 bytes with the expected prefixes', () => {
    expect(decodePublicKeyMultibase(vector.keyPair.publicKeyMultibase)).toHaveLength(32);
    expect(decodePrivateKeyMultibase(vector.keyPair.secretKeyMultibase)).toHaveLength(32);
    expect(encodePublicKeyMultibase(decodePublicKeyMultibase(vector.keyPair.publicKeyMultibase))).toBe(
      vector.keyPair.publicKeyMultibase,
    );
    expect(encodePrivateKeyMultibase(decodePrivateKeyMultibase(vector.keyPair.secretKeyMultibase))).toBe(
      vector.keyPair.secretKeyMultibase,
    );
  });

  it('names the offending multicodec in the error message', () => {
    const p256 = encodeMultikey(0x1200, new Uint8Array(33));
    expect(() => decodeMultikey(p256, ED25519_PUB_CODEC, 'key')).toThrow(/0x1200 \(p256-pub\)/);
  });

  it.each([
    ['x25519-pub (0xec)', encodeMultikey(0xec, key32), ED25519_PUB_CODEC, 'UNSUPPORTED_MULTICODEC'],
    ['p256-pub (0x1200)', encodeMultikey(0x1200, new Uint8Array(33)), ED25519_PUB_CODEC, 'UNSUPPORTED_MULTICODEC'],
    ['a private key where a public key is expected', encodeMultikey(ED25519_PRIV_CODEC, key32), ED25519_PUB_CODEC, 'UNSUPPORTED_MULTICODEC'],
    ['a public key where a private key is expected', encodeMultikey(ED25519_PUB_CODEC, key32), ED25519_PRIV_CODEC, 'UNSUPPORTED_MULTICODEC'],
    ['a truncated varint', 'z' + base58.encode(new Uint8Array([0xed])), ED25519_PUB_CODEC, 'UNSUPPORTED_MULTICODEC'],
    ['a prefix without key bytes', 'z' + base58.encode(new Uint8Array([0xed, 0x01])), ED25519_PUB_CODEC, 'INVALID_KEY_LENGTH'],
    ['an unterminated varint', 'z' + base58.encode(new Uint8Array([0x80, 0x80, 0x80, 0x80])), ED25519_PUB_CODEC, 'UNSUPPORTED_MULTICODEC'],
    ['a 31-byte key', encodeMultikey(ED25519_PUB_CODEC, new Uint8Array(31)), ED25519_PUB_CODEC, 'INVALID_KEY_LENGTH'],
    ['a 33-byte key', encodeMultikey(ED25519_PUB_CODEC, new Uint8Array(33)), ED25519_PUB_CODEC, 'INVALID_KEY_LENGTH'],
    ['a non-z multibase', 'm' + Buffer.from(key32).toString('base64'), ED25519_PUB_CODEC, 'INVALID_MULTIBASE'],
  ])('rejects %s', (_case, value, codec, reason) => {
    expect(() => decodeMultikey(value, codec, 'key')).toThrow(expect.objectContaining({ reason }));
  });
});
