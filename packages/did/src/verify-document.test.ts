import { sign } from 'node:crypto';
import vector from './test-vectors/eddsa-jcs-2022.json';
import httpsVector from './test-vectors/eddsa-jcs-2022-https-verification-method.json';
import { invalidDids } from './test-vectors/invalid-dids';
import { DidError } from './did-error';
import { didFromKeyPair, verificationMethodId } from './did-key';
import { generateKeyPair } from './ed25519-keys';
import { createVerifyData } from './eddsa-jcs-2022';
import { encodeBase58btc } from './multibase';
import { ProofError } from './proof-error';
import { signDocument } from './sign-document';
import { verifyDocument } from './verify-document';

type Signed = Record<string, unknown> & { proof: Record<string, unknown> };

const author = generateKeyPair();
const authorDid = didFromKeyPair(author);
const manifest = {
  '@context': ['https://griot.example/ns/v1'],
  name: 'hello-world',
  version: '1.0.0',
  digest: 'sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824',
};
const signedManifest = signDocument(manifest, { keyPair: author }) as unknown as Signed;

/** A deep copy of the signed manifest, changed by `change`. */
function tampered(change: (document: Signed) => void): Signed {
  const copy = structuredClone(signedManifest);
  change(copy);
  return copy;
}

function reasonOf(run: () => unknown): string {
  try {
    run();
  } catch (err: unknown) {
    expect(err).toBeInstanceOf(ProofError);
    expect(err).toBeInstanceOf(DidError);
    return (err as ProofError).reason;
  }
  throw new Error('expected verifyDocument to throw');
}

describe('verifyDocument', () => {
  it('verifies the spec vector and names its controller', () => {
    const result = verifyDocument(vector.signedDocument, { expectedController: vector.did });
    expect(result.controller).toBe(vector.did);
    expect(result.verificationMethod).toBe(vector.proofOptions.verificationMethod);
    expect(result.proof.proofValue).toBe(vector.proofValue);
  });

  it('rejects a single flipped character in the spec vector proofValue', () => {
    const document = structuredClone(vector.signedDocument);
    document.proof.proofValue = document.proof.proofValue.replace(/.$/, (c) => (c === 'X' ? 'Y' : 'X'));
    expect(reasonOf(() => verifyDocument(document))).toBe('INVALID_SIGNATURE');
  });

  it('verifies a freshly signed manifest for its author', () => {
    expect(verifyDocument(signedManifest, { expectedController: authorDid }).controller).toBe(authorDid);
  });

  it('accepts a custom proof purpose only when asked for it', () => {
    const signed = signDocument(manifest, { keyPair: author, proofPurpose: 'authentication' });
    expect(verifyDocument(signed, { proofPurpose: 'authentication' }).controller).toBe(authorDid);
    expect(reasonOf(() => verifyDocument(signed))).toBe('WRONG_PROOF_PURPOSE');
  });

  it('cannot resolve the https verification method of the repository vector (did:key only)', () => {
    expect(reasonOf(() => verifyDocument(httpsVector.signedDocument))).toBe('MALFORMED_DID');
  });

  it('rejects a proof signed with another key than its verification method names', () => {
    const intruder = generateKeyPair();
    const { proof, ...unsecured } = signedManifest;
    const { proofValue: _ignored, ...proofConfig } = proof;
    // Same proof configuration (naming the author's key), signed by the intruder.
    const forged = sign(null, createVerifyData(unsecured, proofConfig), intruder.privateKey);
    const document = { ...unsecured, proof: { ...proofConfig, proofValue: encodeBase58btc(forged) } };
    expect(reasonOf(() => verifyDocument(document))).toBe('INVALID_SIGNATURE');
  });

  it('rejects a proof by another DID than the expected controller even when it verifies', () => {
    const other = generateKeyPair();
    const signedByOther = signDocument(manifest, { keyPair: other });
    expect(verifyDocument(signedByOther).controller).toBe(didFromKeyPair(other));
    expect(reasonOf(() => verifyDocument(signedByOther, { expectedController: authorDid }))).toBe(
      'UNEXPECTED_CONTROLLER',
    );
  });

  const otherVerificationMethod = verificationMethodId(didFromKeyPair(generateKeyPair()));
  it.each<[string, unknown, string]>([
    ['a non-object document', 'not a document', 'INVALID_DOCUMENT'],
    ['a missing proof', manifest, 'PROOF_MISSING'],
    ['a null proof', { ...manifest, proof: null }, 'PROOF_MISSING'],
    ['a proof set', { ...manifest, proof: [signedManifest.proof] }, 'MALFORMED_PROOF'],
    ['a string proof', { ...manifest, proof: 'z123' }, 'MALFORMED_PROOF'],
    ['another proof type', tampered((d) => (d.proof['type'] = 'Ed25519Signature2020')), 'UNSUPPORTED_PROOF_TYPE'],
    ['a missing proof type', tampered((d) => delete d.proof['type']), 'UNSUPPORTED_PROOF_TYPE'],
    ['another cryptosuite', tampered((d) => (d.proof['cryptosuite'] = 'eddsa-rdfc-2022')), 'UNSUPPORTED_CRYPTOSUITE'],
    ['a missing proofValue', tampered((d) => delete d.proof['proofValue']), 'MALFORMED_PROOF'],
    ['a missing verificationMethod', tampered((d) => delete d.proof['verificationMethod']), 'MALFORMED_PROOF'],
    ['a numeric created', tampered((d) => (d.proof['created'] = 1700000000)), 'MALFORMED_PROOF'],
    ['another proof purpose', tampered((d) => (d.proof['proofPurpose'] = 'authentication')), 'WRONG_PROOF_PURPOSE'],
    ['a tampered document field', tampered((d) => (d['version'] = '1.0.1')), 'INVALID_SIGNATURE'],
    ['an added document field', tampered((d) => (d['extra'] = true)), 'INVALID_SIGNATURE'],
    ['a removed document field', tampered((d) => delete d['digest']), 'INVALID_SIGNATURE'],
    ['a tampered proof created', tampered((d) => (d.proof['created'] = '2000-01-01T00:00:00Z')), 'INVALID_SIGNATURE'],
    ['an added proof field', tampered((d) => (d.proof['expires'] = '2999-01-01T00:00:00Z')), 'INVALID_SIGNATURE'],
    ['a swapped verification method', tampered((d) => (d.proof['verificationMethod'] = otherVerificationMethod)), 'INVALID_SIGNATURE'],
    ['a proofValue in base64url multibase', tampered((d) => (d.proof['proofValue'] = `u${Buffer.alloc(64).toString('base64url')}`)), 'INVALID_PROOF_VALUE'],
    ['a proofValue outside base58', tampered((d) => (d.proof['proofValue'] = 'z0OIl0OIl')), 'INVALID_PROOF_VALUE'],
    ['a 32-byte proofValue', tampered((d) => (d.proof['proofValue'] = encodeBase58btc(new Uint8Array(32).fill(1)))), 'INVALID_PROOF_VALUE'],
    ['a proof @context that is not a prefix', tampered((d) => (d.proof['@context'] = ['https://evil.example/ctx'])), 'CONTEXT_MISMATCH'],
    ['a proof @context on a document without one', tampered((d) => delete d['@context']), 'CONTEXT_MISMATCH'],
    ['a verification method without fragment', tampered((d) => (d.proof['verificationMethod'] = authorDid)), 'MALFORMED_VERIFICATION_METHOD'],
    ['a verification method with a foreign fragment', tampered((d) => (d.proof['verificationMethod'] = `${authorDid}#key-1`)), 'MALFORMED_VERIFICATION_METHOD'],
  ])('rejects %s', (_case, document, reason) => {
    expect(reasonOf(() => verifyDocument(document))).toBe(reason);
  });

  it.each(invalidDids)('rejects a verification method DID with %s', (_case, did, reason) => {
    const fragment = did.slice('did:key:'.length) || 'x';
    const document = tampered((d) => (d.proof['verificationMethod'] = `${did}#${fragment}`));
    expect(reasonOf(() => verifyDocument(document))).toBe(reason);
  });

  it('explains a rejection in words', () => {
    expect(() => verifyDocument(tampered((d) => (d['version'] = '9')))).toThrow(/does not verify with did:key:z6Mk/);
    expect(() => verifyDocument(signedManifest, { expectedController: vector.did })).toThrow(
      `proof was made by ${authorDid}, expected ${vector.did}`,
    );
  });
});
