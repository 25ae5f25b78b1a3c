import { generateKeyPairSync, sign, verify } from 'node:crypto';
import vector from './test-vectors/eddsa-jcs-2022.json';
import {
  didFromKeyPair,
  didFromPublicKey,
  parseDid,
  parseVerificationMethod,
  resolveDid,
  verificationMethodId,
} from './did-key';
import { generateKeyPair, keyPairFromSeed, rawPublicKey } from './ed25519-keys';
import { decodePrivateKeyMultibase } from './multikey';
import { invalidDids } from './test-vectors/invalid-dids';


describe('did:key', () => {
  it('maps the spec vector key pair to the spec vector DID', () => {
    const pair = keyPairFromSeed(decodePrivateKeyMultibase(vector.keyPair.secretKeyMultibase));
    expect(didFromKeyPair(pair)).toBe(vector.did);
    expect(vector.did).toBe(`did:key:${vector.keyPair.publicKeyMultibase}`);
  });

  it('parses a DID into its fingerprint and raw public key', () => {
    const parsed = parseDid(vector.did);
    expect(parsed.fingerprint).toBe(vector.keyPair.publicKeyMultibase);
    expect(parsed.publicKey).toHaveLength(32);
    expect(didFromPublicKey(parsed.publicKey)).toBe(vector.did);
  });

  it('resolves a generated DID to a key that verifies the holder signatures', () => {
    const pair = generateKeyPair();
    const did = didFromKeyPair(pair);
    expect(did).toMatch(/^did:key:z6Mk[1-9A-HJ-NP-Za-km-z]{44}$/);
    const signature = sign(null, Buffer.from('manifest'), pair.privateKey);
    expect(verify(null, Buffer.from('manifest'), resolveDid(did), signature)).toBe(true);
    expect(verify(null, Buffer.from('manifest'), resolveDid(didFromKeyPair(generateKeyPair())), signature)).toBe(false);
  });

  it('builds the same DID from a KeyObject, a private key and raw bytes', () => {
    const pair = generateKeyPair();
    const did = didFromPublicKey(pair.publicKey);
    expect(didFromPublicKey(pair.privateKey)).toBe(did);
    expect(didFromPublicKey(rawPublicKey(pair.publicKey))).toBe(did);
  });

  it('refuses non-Ed25519 keys and wrong-length raw keys', () => {
    expect(() => didFromPublicKey(generateKeyPairSync('x25519').publicKey)).toThrow(
      expect.objectContaining({ reason: 'UNSUPPORTED_KEY_TYPE' }),
    );
    expect(() => didFromPublicKey(new Uint8Array(31))).toThrow(expect.objectContaining({ reason: 'INVALID_KEY_LENGTH' }));
  });

  it.each(invalidDids)('rejects %s', (_case, did, reason) => {
    expect(() => parseDid(did)).toThrow(expect.objectContaining({ name: 'DidError', reason }));
    expect(() => resolveDid(did)).toThrow(expect.objectContaining({ reason }));
  });

  it('rejects a DID URL where a bare DID is expected', () => {
    expect(() => parseDid(verificationMethodId(vector.did))).toThrow(expect.objectContaining({ reason: 'MALFORMED_DID' }));
    expect(() => parseDid(42 as unknown as string)).toThrow(expect.objectContaining({ reason: 'MALFORMED_DID' }));
  });
});

describe('verification method ids', () => {
  it('repeats the fingerprint as the fragment', () => {
    expect(verificationMethodId(vector.did)).toBe(vector.proofOptions.verificationMethod);
    expect(parseVerificationMethod(vector.proofOptions.verificationMethod).did).toBe(vector.did);
  });

  it.each([
    ['no fragment', vector.did, 'MALFORMED_VERIFICATION_METHOD'],
    ['a named fragment', `${vector.did}#key-1`, 'MALFORMED_VERIFICATION_METHOD'],
    ['an empty fragment', `${vector.did}#`, 'MALFORMED_VERIFICATION_METHOD'],
    ['another key as fragment', `${vector.did}#${didFromKeyPair(generateKeyPair()).slice(8)}`, 'MALFORMED_VERIFICATION_METHOD'],
    ['a non-string', 7 as unknown as string, 'MALFORMED_VERIFICATION_METHOD'],
    ['an https URL', 'https://vc.example/issuers/5678#z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2', 'MALFORMED_DID'],
  ])('rejects %s', (_case, id, reason) => {
    expect(() => parseVerificationMethod(id)).toThrow(expect.objectContaining({ reason }));
  });

  it.each(invalidDids)('rejects a verification method whose DID has %s', (_case, did, reason) => {
    const fragment = did.slice('did:key:'.length) || 'x';
    expect(() => parseVerificationMethod(`${did}#${fragment}`)).toThrow(expect.objectContaining({ reason }));
  });
});
