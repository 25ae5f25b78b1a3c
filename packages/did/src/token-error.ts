import { DidError } from './did-error';

/** Why a caller token was rejected. */
export type TokenErrorReason =
  /** Not a compact JWS, bad base64url or JSON, a missing or mistyped claim, or a bad `iss`/`kid`. */
  | 'MALFORMED_TOKEN'
  /** The header `alg` is not `EdDSA` (e.g. `none`, `HS256`). */
  | 'UNSUPPORTED_ALGORITHM'
  /** The signature does not verify with the key of the `iss` DID. */
  | 'BAD_SIGNATURE'
  /** `aud` does not include the verifier's audience. */
  | 'WRONG_AUDIENCE'
  /** `exp` is in the past, beyond the allowed clock skew. */
  | 'TOKEN_EXPIRED'
  /** `iat` (or `nbf`) is in the future, beyond the allowed clock skew. */
  | 'TOKEN_NOT_YET_VALID'
  /** `exp - iat` exceeds the verifier's maximum lifetime. */
  | 'TOKEN_LIFETIME_TOO_LONG'
  /** `sub` is not the same DID as `iss`. */
  | 'ISSUER_SUBJECT_MISMATCH';

/** Error thrown by `verifyCallerToken`. */
export class TokenError extends DidError {
  /** Machine-readable reason, UPPER_SNAKE. */
  declare readonly reason: TokenErrorReason;

  /**
   * @param reason - Why the token was rejected.
   * @param message - Human-readable explanation.
   * @param options - Optional `cause`.
   */
  constructor(reason: TokenErrorReason, message: string, options?: { cause?: unknown }) {
    super(reason, message, options);
  }
}
