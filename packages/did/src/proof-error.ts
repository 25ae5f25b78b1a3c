import { DidError, type DidErrorReason } from './did-error';

/**
 * Why a Data Integrity proof was rejected (or could not be created). A proof
 * whose `verificationMethod` does not parse keeps the DID reason
 * (`MALFORMED_DID`, `INVALID_MULTIBASE`, `UNSUPPORTED_MULTICODEC`,
 * `INVALID_KEY_LENGTH`, `MALFORMED_VERIFICATION_METHOD`).
 */
export type ProofErrorReason =
  /** The document is not a JSON object, or has no JSON form (NaN, undefined...). */
  | 'INVALID_DOCUMENT'
  /** The document has no `proof`. */
  | 'PROOF_MISSING'
  /** `proof` is not an object (proof sets are not supported) or lacks a required string field. */
  | 'MALFORMED_PROOF'
  /** `proof.type` is not `DataIntegrityProof`. */
  | 'UNSUPPORTED_PROOF_TYPE'
  /** `proof.cryptosuite` is not `eddsa-jcs-2022`. */
  | 'UNSUPPORTED_CRYPTOSUITE'
  /** `proof.proofPurpose` is not the purpose the verifier asked for. */
  | 'WRONG_PROOF_PURPOSE'
  /** `proof.proofValue` is not base58btc multibase of a 64-byte signature. */
  | 'INVALID_PROOF_VALUE'
  /** `proof.@context` is not a prefix of the document's `@context`. */
  | 'CONTEXT_MISMATCH'
  /** The signature does not verify: the document or proof was changed, or another key signed. */
  | 'INVALID_SIGNATURE'
  /** The proof was made by a key of a DID other than the expected controller. */
  | 'UNEXPECTED_CONTROLLER'
  /** signDocument was given a document that already carries a proof. */
  | 'DOCUMENT_ALREADY_SIGNED';

/** Error thrown by `signDocument` and `verifyDocument`. */
export class ProofError extends DidError {
  /** Machine-readable reason, UPPER_SNAKE. */
  declare readonly reason: ProofErrorReason | DidErrorReason;

  /**
   * @param reason - Why the proof was rejected.
   * @param message - Human-readable explanation.
   * @param options - Optional `cause`.
   */
  constructor(reason: ProofErrorReason | DidErrorReason, message: string, options?: { cause?: unknown }) {
    super(reason, message, options);
  }
}
