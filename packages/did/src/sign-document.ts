import { sign, type KeyObject } from 'node:crypto';
import { didError } from './did-error';
import { DID_KEY_PREFIX, didFromPublicKey, parseVerificationMethod, verificationMethodId } from './did-key';
import { assertEd25519Key, rawPublicKey, type Ed25519KeyPair } from './ed25519-keys';
import {
  createVerifyData,
  DATA_INTEGRITY_PROOF,
  EDDSA_JCS_2022,
  type DataIntegrityProof,
} from './eddsa-jcs-2022';
import { isJsonObject, type JsonObject } from './json';
import { encodeBase58btc } from './multibase';
import { ProofError } from './proof-error';

/** The signing key of {@link signDocument}: a key pair or a lone private key. */
export type SigningKey =
  | { readonly keyPair: Ed25519KeyPair; readonly privateKey?: never }
  | { readonly privateKey: KeyObject; readonly keyPair?: never };

/** Options of {@link signDocument}. */
export type SignDocumentOptions = SigningKey & {
  /**
   * Verification method id put in the proof. Default: the did:key verification
   * method of the signing key. A did:key value must name the signing key.
   */
  readonly verificationMethod?: string;
  /** Proof creation time. Default: now, to the second. */
  readonly created?: Date | string;
  /** Proof purpose. Default `assertionMethod`. */
  readonly proofPurpose?: string;
};

/**
 * Formats a date as an XML Schema dateTimeStamp to the second, as in the spec examples.
 *
 * @param date - The date.
 */
export function formatProofDate(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function signingPrivateKey(options: SigningKey): KeyObject {
  const privateKey = options.keyPair !== undefined ? options.keyPair.privateKey : options.privateKey;
  assertEd25519Key(privateKey, 'private');
  return privateKey;
}

function checkedVerificationMethod(requested: string | undefined, privateKey: KeyObject): string {
  const signerDid = didFromPublicKey(rawPublicKey(privateKey));
  if (requested === undefined) return verificationMethodId(signerDid);
  // A did:key names its key: refuse to emit a proof that can never verify.
  if (requested.startsWith(DID_KEY_PREFIX) && parseVerificationMethod(requested).did !== signerDid) {
    throw didError('KEY_MISMATCH', `verification method ${requested} does not name the signing key ${signerDid}`);
  }
  return requested;
}

/**
 * Signs a JSON document with an eddsa-jcs-2022 Data Integrity proof.
 *
 * The proof configuration is the proof without `proofValue`, with the
 * document's `@context` copied in when present; the signature is
 * Ed25519(SHA-256(JCS(proofConfig)) ‖ SHA-256(JCS(document))).
 *
 * @param document - A JSON object without `proof`.
 * @param options - Signing key, and optionally verificationMethod, created and proofPurpose.
 * @returns A shallow copy of the document with `proof` added.
 * @throws {@link ProofError} `INVALID_DOCUMENT` or `DOCUMENT_ALREADY_SIGNED`;
 *   {@link DidError} `UNSUPPORTED_KEY_TYPE` or `KEY_MISMATCH` for a bad key.
 */
export function signDocument<T extends object>(
  document: T,
  options: SignDocumentOptions,
): T & { proof: DataIntegrityProof } {
  if (!isJsonObject(document)) {
    throw new ProofError('INVALID_DOCUMENT', 'only a JSON object can be signed');
  }
  if (document['proof'] !== undefined) {
    throw new ProofError('DOCUMENT_ALREADY_SIGNED', 'document already has a proof; proof sets are not supported');
  }
  const privateKey = signingPrivateKey(options);
  const created = options.created ?? new Date();

  const proofConfig: JsonObject = {
    type: DATA_INTEGRITY_PROOF,
    cryptosuite: EDDSA_JCS_2022,
    created: typeof created === 'string' ? created : formatProofDate(created),
    verificationMethod: checkedVerificationMethod(options.verificationMethod, privateKey),
    proofPurpose: options.proofPurpose ?? 'assertionMethod',
  };
  if (document['@context'] !== undefined) {
    proofConfig['@context'] = structuredClone(document['@context']);
  }

  let verifyData: Uint8Array;
  try {
    verifyData = createVerifyData(document, proofConfig);
  } catch (err: unknown) {
    throw new ProofError('INVALID_DOCUMENT', `document cannot be canonicalised: ${(err as Error).message}`, {
      cause: err,
    });
  }
  const proofValue = encodeBase58btc(sign(null, verifyData, privateKey));
  const proof = { ...proofConfig, proofValue } as unknown as DataIntegrityProof;
  return { ...document, proof };
}
