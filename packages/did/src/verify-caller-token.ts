import { verify } from 'node:crypto';
import { decodeCompactJws } from './compact-jws';
import { DidError } from './did-error';
import { parseDid, verificationMethodId } from './did-key';
import { publicKeyFromRaw } from './ed25519-keys';
import { ED25519_SIGNATURE_LENGTH } from './eddsa-jcs-2022';
import { TokenError } from './token-error';

/** Default tolerated clock difference between caller and verifier, in seconds. */
export const DEFAULT_MAX_SKEW_SECONDS = 30;

/** Default longest accepted token lifetime (`exp - iat`), in seconds. */
export const DEFAULT_MAX_TTL_SECONDS = 300;

/** Longest token accepted, in characters; a real caller token is about 500. */
const MAX_TOKEN_LENGTH = 4096;

/** Options of {@link verifyCallerToken}. */
export interface VerifyCallerTokenOptions {
  /** This service's audience; the token's `aud` must be or contain it. */
  readonly audience: string;
  /** Tolerated clock skew in seconds. Default 30. */
  readonly maxSkewSeconds?: number;
  /** Longest accepted `exp - iat`, in seconds. Default 300. */
  readonly maxTtlSeconds?: number;
  /** The verifier's clock. Default: now. */
  readonly now?: Date;
}

/** A verified caller identity. */
export interface VerifiedCallerToken {
  /** The caller's did:key (`iss` = `sub`). */
  readonly did: string;
  /** The token id, for replay caches. */
  readonly jti: string;
  /** `iat`, seconds since the epoch. */
  readonly issuedAt: number;
  /** `exp`, seconds since the epoch. */
  readonly expiresAt: number;
}

function requireString(claims: Record<string, unknown>, name: string): string {
  const value = claims[name];
  if (typeof value !== 'string' || value.length === 0) {
    throw new TokenError('MALFORMED_TOKEN', `token claim "${name}" must be a non-empty string`);
  }
  return value;
}

function requireNumericDate(claims: Record<string, unknown>, name: string): number {
  const value = claims[name];
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new TokenError('MALFORMED_TOKEN', `token claim "${name}" must be a non-negative integer NumericDate`);
  }
  return value;
}

function audiences(claims: Record<string, unknown>): string[] {
  const aud = claims['aud'];
  if (typeof aud === 'string') return [aud];
  if (Array.isArray(aud) && aud.length > 0 && aud.every((entry) => typeof entry === 'string')) return aud;
  throw new TokenError('MALFORMED_TOKEN', 'token claim "aud" must be a string or a non-empty array of strings');
}

function issuerPublicKey(iss: string): Uint8Array {
  try {
    return parseDid(iss).publicKey;
  } catch (err: unknown) {
    if (!(err instanceof DidError)) throw err;
    throw new TokenError('MALFORMED_TOKEN', `token "iss" is not an Ed25519 did:key (${err.reason}): ${err.message}`, {
      cause: err,
    });
  }
}

/**
 * Verifies a caller token (the format is described in `create-caller-token.ts`
 * and the README). The issuer's public key comes from the `iss` did:key,
 * offline; the signature is checked before any claim is trusted.
 *
 * Time rules, with `now` the verifier's clock, in whole seconds:
 * - `exp - iat` is at most `maxTtlSeconds` (300): TOKEN_LIFETIME_TOO_LONG;
 * - `iat` (and `nbf` when present) may be at most `maxSkewSeconds` (30) after
 *   `now`, for a caller whose clock is ahead: later is TOKEN_NOT_YET_VALID;
 * - `exp` is honoured exactly: from `now >= exp` on, TOKEN_EXPIRED. The skew
 *   is spent on the start only, so a token is never accepted after its `exp`,
 *   hence never after `iat + maxTtlSeconds`, and a caller cannot stretch a
 *   token by dating it in the future: it is accepted during at most
 *   `maxTtlSeconds + maxSkewSeconds` of the verifier's time. A caller whose
 *   clock is behind loses that much of its token's life.
 *
 * This function does not remember tokens: a service refuses a second use of
 * a `jti` (see `@griot/server-kit`'s caller authentication), for which it
 * keeps the `jti` until `expiresAt` plus the skew.
 *
 * @param token - The compact JWT.
 * @param options - Audience, clock skew, maximum lifetime and clock.
 * @returns The caller's DID and the token's id and times.
 * @throws {@link TokenError} `MALFORMED_TOKEN`, `UNSUPPORTED_ALGORITHM`,
 *   `BAD_SIGNATURE`, `ISSUER_SUBJECT_MISMATCH`, `WRONG_AUDIENCE`,
 *   `TOKEN_LIFETIME_TOO_LONG`, `TOKEN_NOT_YET_VALID` or `TOKEN_EXPIRED`.
 */
export function verifyCallerToken(token: string, options: VerifyCallerTokenOptions): VerifiedCallerToken {
  const maxSkew = options.maxSkewSeconds ?? DEFAULT_MAX_SKEW_SECONDS;
  const maxTtl = options.maxTtlSeconds ?? DEFAULT_MAX_TTL_SECONDS;
  const { header, payload, signingInput, signature } = decodeCompactJws(token, MAX_TOKEN_LENGTH);

  if (header['alg'] !== 'EdDSA') {
    throw new TokenError('UNSUPPORTED_ALGORITHM', `token alg must be EdDSA, got ${JSON.stringify(header['alg'])}`);
  }
  if (header['typ'] !== undefined && header['typ'] !== 'JWT') {
    throw new TokenError('MALFORMED_TOKEN', `token typ must be JWT, got ${JSON.stringify(header['typ'])}`);
  }
  if (header['crit'] !== undefined) {
    // RFC 7515 §4.1.11: extensions we do not understand must not be ignored.
    throw new TokenError('MALFORMED_TOKEN', 'token header "crit" is not supported');
  }

  const iss = requireString(payload, 'iss');
  const sub = requireString(payload, 'sub');
  const jti = requireString(payload, 'jti');
  const aud = audiences(payload);
  const iat = requireNumericDate(payload, 'iat');
  const exp = requireNumericDate(payload, 'exp');
  if (payload['nbf'] !== undefined) requireNumericDate(payload, 'nbf');

  const issuerKey = issuerPublicKey(iss);
  const kid = header['kid'];
  if (kid !== verificationMethodId(iss)) {
    throw new TokenError('MALFORMED_TOKEN', `token kid ${JSON.stringify(kid)} is not the issuer's key ${verificationMethodId(iss)}`);
  }
  if (signature.length !== ED25519_SIGNATURE_LENGTH) {
    throw new TokenError('MALFORMED_TOKEN', `token signature is ${signature.length} bytes, expected ${ED25519_SIGNATURE_LENGTH}`);
  }
  if (!verify(null, signingInput, publicKeyFromRaw(issuerKey), signature)) {
    throw new TokenError('BAD_SIGNATURE', `token signature does not verify with the key of ${iss}`);
  }

  if (sub !== iss) {
    throw new TokenError('ISSUER_SUBJECT_MISMATCH', `token sub ${JSON.stringify(sub)} is not its iss ${iss}`);
  }
  if (!aud.includes(options.audience)) {
    throw new TokenError('WRONG_AUDIENCE', `token is for ${JSON.stringify(aud)}, not ${JSON.stringify(options.audience)}`);
  }
  if (exp <= iat) {
    throw new TokenError('MALFORMED_TOKEN', `token exp (${exp}) is not after iat (${iat})`);
  }
  if (exp - iat > maxTtl) {
    throw new TokenError('TOKEN_LIFETIME_TOO_LONG', `token lives ${exp - iat}s, at most ${maxTtl}s allowed`);
  }
  const now = Math.floor((options.now ?? new Date()).getTime() / 1000);
  const notBefore = Math.max(iat, typeof payload['nbf'] === 'number' ? payload['nbf'] : 0);
  if (notBefore > now + maxSkew) {
    throw new TokenError('TOKEN_NOT_YET_VALID', `token is valid from ${notBefore}, now is ${now} (skew ${maxSkew}s)`);
  }
  // No skew after exp: see the time rules above.
  if (now >= exp) {
    throw new TokenError('TOKEN_EXPIRED', `token expired at ${exp}, now is ${now}`);
  }
  return { did: iss, jti, issuedAt: iat, expiresAt: exp };
}

/** @deprecated Use {@link VerifyCallerTokenOptions}. */
export type VerifyNodeTokenOptions = VerifyCallerTokenOptions;
/** @deprecated Use {@link VerifiedCallerToken}. */
export type VerifiedNodeToken = VerifiedCallerToken;
/** @deprecated Use {@link verifyCallerToken}: a node token is a caller token. */
export const verifyNodeToken = verifyCallerToken;
