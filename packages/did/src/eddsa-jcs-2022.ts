import { createHash } from 'node:crypto';
import { canonicalizeJson, type JsonObject } from './json';

/** `proof.type` of every proof this package makes. */
export const DATA_INTEGRITY_PROOF = 'DataIntegrityProof';

/** `proof.cryptosuite` of every proof this package makes. */
export const EDDSA_JCS_2022 = 'eddsa-jcs-2022';

/** Length in bytes of an Ed25519 signature. */
export const ED25519_SIGNATURE_LENGTH = 64;

function sha256(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

/**
 * Computes the eddsa-jcs-2022 "hash data" that is signed:
 * SHA-256(JCS(proofConfig)) ‖ SHA-256(JCS(unsecuredDocument)), 64 bytes.
 *
 * @param unsecuredDocument - The document without `proof`.
 * @param proofConfig - The proof without `proofValue` (carrying `@context` when the document has one).
 * @returns The 64 bytes to sign or verify.
 * @throws Error when either value has no JSON form (e.g. contains NaN).
 */
export function createVerifyData(unsecuredDocument: JsonObject, proofConfig: JsonObject): Uint8Array {
  return Buffer.concat([sha256(canonicalizeJson(proofConfig)), sha256(canonicalizeJson(unsecuredDocument))]);
}

/** An eddsa-jcs-2022 Data Integrity proof, as attached to a document's `proof`. */
export interface DataIntegrityProof {
  /** Always `DataIntegrityProof`. */
  readonly type: typeof DATA_INTEGRITY_PROOF;
  /** Always `eddsa-jcs-2022`. */
  readonly cryptosuite: typeof EDDSA_JCS_2022;
  /** When the proof was made, an XML Schema dateTimeStamp (e.g. `2023-02-24T23:36:38Z`). */
  readonly created: string;
  /** The signing key, `did:key:z6Mk...#z6Mk...`. */
  readonly verificationMethod: string;
  /** Why the proof was made, e.g. `assertionMethod`. */
  readonly proofPurpose: string;
  /** The document's `@context`, copied when the document has one. */
  readonly '@context'?: unknown;
  /** The Ed25519 signature, base58btc multibase (`z...`). */
  readonly proofValue: string;
}
