/**
 * `@griot/did`: Ed25519 did:key identities, key files, eddsa-jcs-2022 Data
 * Integrity proofs and caller tokens (EdDSA JWTs). Shared by the
 * registry service, the CLI and the node agent; knows nothing of gRPC.
 *
 * @packageDocumentation
 */

export { DidError, type DidErrorReason } from './did-error';
export { ProofError, type ProofErrorReason } from './proof-error';
export { TokenError, type TokenErrorReason } from './token-error';

export {
  generateKeyPair,
  keyPairFromSeed,
  publicKeyFromRaw,
  rawPublicKey,
  rawSeed,
  type Ed25519KeyPair,
} from './ed25519-keys';
export {
  decodePrivateKeyMultibase,
  decodePublicKeyMultibase,
  encodePrivateKeyMultibase,
  encodePublicKeyMultibase,
} from './multikey';
export {
  DID_KEY_PREFIX,
  didFromKeyPair,
  didFromPublicKey,
  parseDid,
  parseVerificationMethod,
  resolveDid,
  verificationMethodId,
  type DidKey,
} from './did-key';

export {
  decodeKeyFile,
  encodeKeyFile,
  KEY_FILE_MODE,
  readKeyFile,
  writeKeyFile,
  type KeyFile,
  type KeyFileKeyPair,
  type WriteKeyFileOptions,
} from './key-file';

/** RFC 8785 canonical JSON: equal JSON values give equal text, whatever their key order. */
export { canonicalizeJson } from './json';
export {
  checkManifestFields,
  MAX_NODE_CLASS,
  MAX_PACKAGE_NAME,
  packageNameProblem,
  versionProblem,
  type ManifestArtifact,
  type ManifestFieldViolation,
} from './manifest-rules';
export { DATA_INTEGRITY_PROOF, EDDSA_JCS_2022, type DataIntegrityProof } from './eddsa-jcs-2022';
export { signDocument, type SignDocumentOptions, type SigningKey } from './sign-document';
export { verifyDocument, type VerifiedDocument, type VerifyDocumentOptions } from './verify-document';

export {
  createCallerToken,
  DEFAULT_CALLER_TOKEN_TTL_SECONDS,
  type CallerTokenClaims,
  type CallerTokenHeader,
  type CreateCallerTokenOptions,
  // Deprecated names of the same things, from when only nodes had tokens.
  createNodeToken,
  DEFAULT_NODE_TOKEN_TTL_SECONDS,
  type CreateNodeTokenOptions,
  type NodeTokenClaims,
  type NodeTokenHeader,
} from './create-caller-token';
export {
  DEFAULT_MAX_SKEW_SECONDS,
  DEFAULT_MAX_TTL_SECONDS,
  verifyCallerToken,
  type VerifiedCallerToken,
  type VerifyCallerTokenOptions,
  // Deprecated names of the same things.
  verifyNodeToken,
  type VerifiedNodeToken,
  type VerifyNodeTokenOptions,
} from './verify-caller-token';
