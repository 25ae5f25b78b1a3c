import { verify } from 'node:crypto';
import { DidError } from './did-error';
import { parseVerificationMethod, type DidKey } from './did-key';
import { publicKeyFromRaw } from './ed25519-keys';
import {
  createVerifyData,
  DATA_INTEGRITY_PROOF,
  ED25519_SIGNATURE_LENGTH,
  EDDSA_JCS_2022,
  type DataIntegrityProof,
} from './eddsa-jcs-2022';
import { isJsonObject, type JsonObject } from './json';
import { decodeBase58btc } from './multibase';
import { ProofError } from './proof-error';

/** Options of {@link verifyDocument}. */
export interface VerifyDocumentOptions {
  /**
   * The DID that must have made the proof (e.g. a manifest's author). When
   * set, a proof by any other DID is rejected with `UNEXPECTED_CONTROLLER`.
   */
  readonly expectedController?: string;
  /** The proof purpose required. Default `assertionMethod`. */
  readonly proofPurpose?: string;
}

/** What {@link verifyDocument} established. */
export interface VerifiedDocument {
  /** The DID whose key made the proof. */
  readonly controller: string;
  /** The verification method id of the proof. */
  readonly verificationMethod: string;
  /** The verified proof. */
  readonly proof: DataIntegrityProof;
}

function requireProofString(proof: JsonObject, field: string): string {
  const value = proof[field];
  if (typeof value !== 'string' || value.length === 0) {
    throw new ProofError('MALFORMED_PROOF', `proof.${field} must be a non-empty string`);
  }
  return value;
}

function parseProofVerificationMethod(verificationMethod: string): DidKey {
  try {
    return parseVerificationMethod(verificationMethod);
  } catch (err: unknown) {
    if (!(err instanceof DidError)) throw err;
    // Keep the DID reason: MALFORMED_DID, UNSUPPORTED_MULTICODEC... each tell a different story.
    throw new ProofError(err.reason as ProofError['reason'], `proof.verificationMethod: ${err.message}`, {
      cause: err,
    });
  }
}

function decodeProofValue(proofValue: string): Uint8Array {
  let signature: Uint8Array;
  try {
    signature = decodeBase58btc(proofValue, 'proof.proofValue');
  } catch (err: unknown) {
    if (!(err instanceof DidError)) throw err;
    throw new ProofError('INVALID_PROOF_VALUE', err.message, { cause: err });
  }
  if (signature.length !== ED25519_SIGNATURE_LENGTH) {
    throw new ProofError(
      'INVALID_PROOF_VALUE',
      `proof.proofValue decodes to ${signature.length} bytes, expected a ${ED25519_SIGNATURE_LENGTH}-byte Ed25519 signature`,
    );
  }
  return signature;
}

function asArray(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [value];
}

/**
 * Applies the spec's @context rule: a proof `@context` must be a prefix of
 * the document's, and is then what the document is hashed with.
 */
function unsecuredDocumentFor(securedDocument: JsonObject, proofConfig: JsonObject): JsonObject {
  const { proof: _proof, ...unsecured } = securedDocument;
  if (proofConfig['@context'] === undefined) return unsecured;
  const proofContext = asArray(proofConfig['@context']);
  const documentContext = asArray(securedDocument['@context']);
  const isPrefix =
    securedDocument['@context'] !== undefined &&
    proofContext.every((entry, i) => JSON.stringify(entry) === JSON.stringify(documentContext[i]));
  if (!isPrefix) {
    throw new ProofError('CONTEXT_MISMATCH', "proof.@context is not a prefix of the document's @context");
  }
  return { ...unsecured, '@context': proofConfig['@context'] };
}

/**
 * Verifies the eddsa-jcs-2022 Data Integrity proof of a document signed by a
 * did:key. The public key is resolved offline from `proof.verificationMethod`.
 *
 * @param securedDocument - A JSON object carrying one `proof` object.
 * @param options - Optional expected controller DID and proof purpose.
 * @returns The controller DID and the verified proof.
 * @throws {@link ProofError} with reason `INVALID_DOCUMENT`, `PROOF_MISSING`,
 *   `MALFORMED_PROOF`, `UNSUPPORTED_PROOF_TYPE`, `UNSUPPORTED_CRYPTOSUITE`,
 *   `WRONG_PROOF_PURPOSE`, a DID reason for a bad `verificationMethod`
 *   (`MALFORMED_DID`, `INVALID_MULTIBASE`, `UNSUPPORTED_MULTICODEC`,
 *   `INVALID_KEY_LENGTH`, `MALFORMED_VERIFICATION_METHOD`),
 *   `UNEXPECTED_CONTROLLER`, `INVALID_PROOF_VALUE`, `CONTEXT_MISMATCH` or
 *   `INVALID_SIGNATURE` (document or proof changed, or signed by another key).
 */
export function verifyDocument(securedDocument: unknown, options: VerifyDocumentOptions = {}): VerifiedDocument {
  if (!isJsonObject(securedDocument)) {
    throw new ProofError('INVALID_DOCUMENT', 'a signed document must be a JSON object');
  }
  const proof = securedDocument['proof'];
  if (proof === undefined || proof === null) {
    throw new ProofError('PROOF_MISSING', 'document has no proof');
  }
  if (!isJsonObject(proof)) {
    throw new ProofError(
      'MALFORMED_PROOF',
      Array.isArray(proof) ? 'proof sets (an array of proofs) are not supported' : 'proof must be a JSON object',
    );
  }
  if (proof['type'] !== DATA_INTEGRITY_PROOF) {
    throw new ProofError(
      'UNSUPPORTED_PROOF_TYPE',
      `proof.type must be ${DATA_INTEGRITY_PROOF}, got ${JSON.stringify(proof['type'])}`,
    );
  }
  if (proof['cryptosuite'] !== EDDSA_JCS_2022) {
    throw new ProofError(
      'UNSUPPORTED_CRYPTOSUITE',
      `proof.cryptosuite must be ${EDDSA_JCS_2022}, got ${JSON.stringify(proof['cryptosuite'])}`,
    );
  }
  const verificationMethod = requireProofString(proof, 'verificationMethod');
  const proofPurpose = requireProofString(proof, 'proofPurpose');
  const proofValue = requireProofString(proof, 'proofValue');
  if (proof['created'] !== undefined && typeof proof['created'] !== 'string') {
    throw new ProofError('MALFORMED_PROOF', 'proof.created must be a string');
  }

  const expectedPurpose = options.proofPurpose ?? 'assertionMethod';
  if (proofPurpose !== expectedPurpose) {
    throw new ProofError(
      'WRONG_PROOF_PURPOSE',
      `proof.proofPurpose is ${JSON.stringify(proofPurpose)}, expected ${JSON.stringify(expectedPurpose)}`,
    );
  }

  const signer = parseProofVerificationMethod(verificationMethod);
  if (options.expectedController !== undefined && signer.did !== options.expectedController) {
    throw new ProofError(
      'UNEXPECTED_CONTROLLER',
      `proof was made by ${signer.did}, expected ${options.expectedController}`,
    );
  }
  const signature = decodeProofValue(proofValue);

  const { proofValue: _proofValue, ...proofConfig } = proof;
  const unsecuredDocument = unsecuredDocumentFor(securedDocument, proofConfig);
  let verifyData: Uint8Array;
  try {
    verifyData = createVerifyData(unsecuredDocument, proofConfig);
  } catch (err: unknown) {
    throw new ProofError('INVALID_DOCUMENT', `document cannot be canonicalised: ${(err as Error).message}`, {
      cause: err,
    });
  }
  if (!verify(null, verifyData, publicKeyFromRaw(signer.publicKey), signature)) {
    throw new ProofError(
      'INVALID_SIGNATURE',
      `proof signature does not verify with ${verificationMethod}: the document or proof was changed, or another key signed it`,
    );
  }
  return { controller: signer.did, verificationMethod, proof: proof as unknown as DataIntegrityProof };
}
