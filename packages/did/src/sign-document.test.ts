import { generateKeyPairSync, verify } from 'node:crypto';
import vector from './test-vectors/eddsa-jcs-2022.json';
import httpsVector from './test-vectors/eddsa-jcs-2022-https-verification-method.json';
import { didFromKeyPair, verificationMethodId } from './did-key';
import { generateKeyPair, keyPairFromSeed } from './ed25519-keys';
import { createVerifyData } from './eddsa-jcs-2022';
import { decodeBase58btc } from './multibase';
import { decodePrivateKeyMultibase } from './multikey';
import { formatProofDate, signDocument } from './sign-document';
import { verifyDocument } from './verify-document';

const vectorKeyPair = keyPairFromSeed(decodePrivateKeyMultibase(vector.keyPair.secretKeyMultibase));

describe('signDocument', () => {
  it('reproduces the spec vector proofValue byte for byte', () => {
    const signed = signDocument(vector.unsecuredDocument, {
      keyPair: vectorKeyPair,
      verificationMethod: vector.proofOptions.verificationMethod,
      created: vector.proofOptions.created,
      proofPurpose: 'assertionMethod',
    });
    expect(signed.proof.proofValue).toBe(vector.proofValue);
    expect(Buffer.from(decodeBase58btc(signed.proof.proofValue, 'proofValue')).toString('hex')).toBe(vector.signatureHex);
    expect(signed).toEqual(vector.signedDocument);
  });

  it('defaults the verification method to the did:key of a lone private key', () => {
    const signed = signDocument(vector.unsecuredDocument, {
      privateKey: vectorKeyPair.privateKey,
      created: new Date(Date.UTC(2023, 1, 24, 23, 36, 38, 456)),
    });
    expect(signed.proof.verificationMethod).toBe(vector.proofOptions.verificationMethod);
    expect(signed.proof.created).toBe('2023-02-24T23:36:38Z');
    expect(signed.proof.proofValue).toBe(vector.proofValue);
  });

  it('reproduces the repository vector that names its key by an https URL', () => {
    const signed = signDocument(httpsVector.unsecuredDocument, {
      keyPair: vectorKeyPair,
      verificationMethod: httpsVector.proofOptions.verificationMethod,
      created: httpsVector.proofOptions.created,
    });
    expect(signed.proof.proofValue).toBe(httpsVector.proofValue);
    expect(signed).toEqual(httpsVector.signedDocument);
  });

  it('signs exactly proof configuration hash ‖ document hash', () => {
    const pair = generateKeyPair();
    const document = { name: 'griot', version: '1.2.3' };
    const { proof, ...unsecured } = signDocument(document, { keyPair: pair, created: '2024-01-01T00:00:00Z' });
    const { proofValue, ...proofConfig } = proof;
    const signature = decodeBase58btc(proofValue, 'proofValue');
    expect(verify(null, createVerifyData(unsecured, proofConfig), pair.publicKey, signature)).toBe(true);
    // Without an @context in the document, none is added to the proof.
    expect(proof).not.toHaveProperty('@context');
  });

  it('fills type, cryptosuite, proof purpose and a current creation time', () => {
    const pair = generateKeyPair();
    const before = formatProofDate(new Date());
    const { proof } = signDocument({ a: 1 }, { keyPair: pair, proofPurpose: 'authentication' });
    const after = formatProofDate(new Date());
    expect(proof).toMatchObject({
      type: 'DataIntegrityProof',
      cryptosuite: 'eddsa-jcs-2022',
      proofPurpose: 'authentication',
      verificationMethod: verificationMethodId(didFromKeyPair(pair)),
    });
    expect(proof.created).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(proof.created >= before && proof.created <= after).toBe(true);
  });

  it('leaves the input document untouched', () => {
    const document = { '@context': ['https://example.org/ctx'], a: 1 };
    const signed = signDocument(document, { keyPair: generateKeyPair() });
    expect(document).toEqual({ '@context': ['https://example.org/ctx'], a: 1 });
    (signed.proof['@context'] as string[]).push('mutated');
    expect(document['@context']).toEqual(['https://example.org/ctx']);
  });

  it('produces documents that verifyDocument accepts after a JSON round trip with reordered keys', () => {
    const pair = generateKeyPair();
    const signed = signDocument({ z: [1, 2, { y: 'é' }], a: 'first' }, { keyPair: pair });
    const reordered = JSON.parse(JSON.stringify({ proof: signed.proof, a: signed.a, z: signed.z }, null, 2));
    expect(verifyDocument(reordered, { expectedController: didFromKeyPair(pair) }).controller).toBe(didFromKeyPair(pair));
  });

  it.each([
    ['an array', [1, 2], 'INVALID_DOCUMENT'],
    ['a document with NaN', { value: Number.NaN }, 'INVALID_DOCUMENT'],
    ['a document that already has a proof', vector.signedDocument, 'DOCUMENT_ALREADY_SIGNED'],
    ['a document with a null proof', { proof: null }, 'DOCUMENT_ALREADY_SIGNED'],
  ])('rejects %s', (_case, document, reason) => {
    expect(() => signDocument(document, { keyPair: generateKeyPair() })).toThrow(
      expect.objectContaining({ name: 'ProofError', reason }),
    );
  });

  it('refuses a did:key verification method that is not the signing key', () => {
    const other = verificationMethodId(didFromKeyPair(generateKeyPair()));
    expect(() => signDocument({ a: 1 }, { keyPair: generateKeyPair(), verificationMethod: other })).toThrow(
      expect.objectContaining({ reason: 'KEY_MISMATCH' }),
    );
  });

  it('refuses keys that are not Ed25519 private keys', () => {
    expect(() => signDocument({ a: 1 }, { privateKey: generateKeyPairSync('x25519').privateKey })).toThrow(
      expect.objectContaining({ reason: 'UNSUPPORTED_KEY_TYPE' }),
    );
    expect(() => signDocument({ a: 1 }, { privateKey: generateKeyPair().publicKey })).toThrow(
      expect.objectContaining({ reason: 'UNSUPPORTED_KEY_TYPE' }),
    );
  });
});
