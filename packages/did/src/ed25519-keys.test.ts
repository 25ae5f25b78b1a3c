import { generateKeyPairSync, sign, verify } from 'node:crypto';
import vector from './test-vectors/eddsa-jcs-2022.json';
import {
  assertEd25519Key,
  generateKeyPair,
  keyPairFromSeed,
  publicKeyFromRaw,
  rawPublicKey,
  rawSeed,
} from './ed25519-keys';
import { decodePrivateKeyMultibase, decodePublicKeyMultibase } from './multikey';

describe('Ed25519 keys', () => {
  it('derives the spec vector public key from the spec vector seed', () => {
    const pair = keyPairFromSeed(decodePrivateKeyMultibase(vector.keyPair.secretKeyMultibase));
    expect(Buffer.from(rawPublicKey(pair.publicKey))).toEqual(
      Buffer.from(decodePublicKeyMultibase(vector.keyPair.publicKeyMultibase)),
    );
  });

  it('round-trips seed and public key bytes through KeyObjects', () => {
    const pair = generateKeyPair();
    const again = keyPairFromSeed(rawSeed(pair.privateKey));
    expect(Buffer.from(rawPublicKey(again.publicKey))).toEqual(Buffer.from(rawPublicKey(pair.publicKey)));
    const signature = sign(null, Buffer.from('griot'), again.privateKey);
    expect(verify(null, Buffer.from('griot'), publicKeyFromRaw(rawPublicKey(pair.publicKey)), signature)).toBe(true);
  });

  it('derives the public key from a private KeyObject', () => {
    const pair = generateKeyPair();
    expect(Buffer.from(rawPublicKey(pair.privateKey))).toEqual(Buffer.from(rawPublicKey(pair.publicKey)));
  });

  it('generates distinct key pairs', () => {
    expect(Buffer.from(rawSeed(generateKeyPair().privateKey))).not.toEqual(
      Buffer.from(rawSeed(generateKeyPair().privateKey)),
    );
  });

  it('rejects keys of other curves and kinds with UNSUPPORTED_KEY_TYPE', () => {
    const x25519 = generateKeyPairSync('x25519');
    const pair = generateKeyPair();
    expect(() => rawPublicKey(x25519.publicKey)).toThrow(expect.objectContaining({ reason: 'UNSUPPORTED_KEY_TYPE' }));
    expect(() => rawSeed(x25519.privateKey)).toThrow(expect.objectContaining({ reason: 'UNSUPPORTED_KEY_TYPE' }));
    expect(() => rawSeed(pair.publicKey)).toThrow(expect.objectContaining({ reason: 'UNSUPPORTED_KEY_TYPE' }));
    expect(() => assertEd25519Key(pair.privateKey, 'public')).toThrow(/expected an Ed25519 public key, got private ed25519 key/);
  });

  it.each([31, 33, 0])('rejects %i-byte raw keys and seeds with INVALID_KEY_LENGTH', (length) => {
    expect(() => publicKeyFromRaw(new Uint8Array(length))).toThrow(expect.objectContaining({ reason: 'INVALID_KEY_LENGTH' }));
    expect(() => keyPairFromSeed(new Uint8Array(length))).toThrow(expect.objectContaining({ reason: 'INVALID_KEY_LENGTH' }));
  });
});
