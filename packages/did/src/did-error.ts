/**
 * Why a DID, a key or a key file was rejected. Stable, machine-readable
 * values: callers (the gRPC edge, the CLI) branch on these, never on messages.
 */
export type DidErrorReason =
  /** The string is not a bare `did:key:` DID. */
  | 'MALFORMED_DID'
  /** The multibase value does not start with `z` or is not valid base58btc. */
  | 'INVALID_MULTIBASE'
  /** The multicodec prefix is not the one expected (e.g. x25519 or P-256 instead of Ed25519). */
  | 'UNSUPPORTED_MULTICODEC'
  /** The key material after the multicodec prefix is not 32 bytes long. */
  | 'INVALID_KEY_LENGTH'
  /** A verification method id is not `did:key:<fingerprint>#<fingerprint>`. */
  | 'MALFORMED_VERIFICATION_METHOD'
  /** A `KeyObject` is not an Ed25519 key of the expected kind (public or private). */
  | 'UNSUPPORTED_KEY_TYPE'
  /** A verification method names a different key than the one used to sign. */
  | 'KEY_MISMATCH'
  /** A key file is not valid JSON or lacks a required field. */
  | 'INVALID_KEY_FILE'
  /** A key file's DID, public key and private key do not belong together. */
  | 'KEY_FILE_MISMATCH'
  /** A key file already exists and overwriting was not requested. */
  | 'KEY_FILE_EXISTS';

/**
 * Base class of every error this package throws on purpose. `reason` is an
 * UPPER_SNAKE code for programs; `message` is for people. Subclasses
 * ({@link ProofError}, {@link TokenError}) add their own reasons, so
 * `err instanceof DidError` catches all of them.
 */
export class DidError extends Error {
  /** Machine-readable reason, UPPER_SNAKE. */
  readonly reason: string;

  /**
   * @param reason - UPPER_SNAKE reason code.
   * @param message - Human-readable explanation, including the offending value where safe.
   * @param options - Optional `cause` (the lower-level error).
   */
  constructor(reason: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.reason = reason;
  }
}

/**
 * Builds a {@link DidError} with a reason checked against {@link DidErrorReason}.
 *
 * @param reason - Why the input was rejected.
 * @param message - Human-readable explanation.
 * @param cause - Optional lower-level error.
 */
export function didError(reason: DidErrorReason, message: string, cause?: unknown): DidError {
  return new DidError(reason, message, cause === undefined ? undefined : { cause });
}
