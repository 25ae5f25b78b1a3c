/**
 * Caller tokens: the one credential every Griot caller (an author, a node, an
 * operator, the registry itself) sends on calls that need to know who is
 * calling, as gRPC metadata `authorization: Bearer <token>`.
 *
 * The format, for implementations in other languages: a JWT (RFC 7519) in
 * JWS compact serialization (RFC 7515), three base64url parts without
 * padding, `header.claims.signature`.
 *
 * - Header: `{"alg":"EdDSA","typ":"JWT","kid":"<did>#<multibase key>"}`.
 *   `alg` is always `EdDSA` (Ed25519, RFC 8037); `typ` is `JWT` (it may be
 *   left out, any other value is refused); `kid` is the verification method
 *   of the issuer's did:key, the DID, `#`, and the DID's own method-specific
 *   id again (`did:key:z6Mk…#z6Mk…`). A `crit` header is refused.
 * - Claims: `iss` and `sub` are both the caller's did:key (a caller speaks
 *   for itself; a token whose `sub` differs is refused); `aud` names the
 *   service, `griot-registry` or `griot-content` by default (a string, or an
 *   array containing it); `iat` and `exp` are NumericDates (whole seconds
 *   since the epoch) with `exp > iat`; `jti` is a unique id (a UUID here).
 *   An optional `nbf` is honoured. Other claims are ignored.
 * - Signature: Ed25519 over the ASCII bytes of `header.claims`, with the
 *   private key of the `iss` did:key; verifiers take the public key from the
 *   DID itself, offline.
 * - Lifetime: `exp - iat` is at most 300 seconds (`DEFAULT_MAX_TTL_SECONDS`);
 *   a longer-lived token is refused even before it expires. Tokens made here
 *   live 60 seconds by default.
 * - Clock skew: verifiers accept a token from `iat - skew` until `exp + skew`,
 *   skew 30 seconds by default (REGISTRY_MAX_TOKEN_SKEW, CONTENT_MAX_TOKEN_SKEW).
 *
 * A token proves that the holder of the DID's private key asked for this
 * service within the last few minutes; it is not bound to one call, so keep
 * its lifetime short.
 */
import { randomUUID, sign } from 'node:crypto';
import { encodeJsonPart } from './compact-jws';
import { didFromPublicKey, verificationMethodId } from './did-key';
import { assertEd25519Key, rawPublicKey, type Ed25519KeyPair } from './ed25519-keys';

/** Default lifetime of a caller token, in seconds. */
export const DEFAULT_CALLER_TOKEN_TTL_SECONDS = 60;

/** Options of {@link createCallerToken}. */
export interface CreateCallerTokenOptions {
  /** The caller's key pair; its did:key becomes `iss` and `sub`. */
  readonly keyPair: Ed25519KeyPair;
  /** The service the token is for (`aud`). */
  readonly audience: string;
  /** Lifetime in seconds, a positive integer. Default 60; verifiers refuse more than 300. */
  readonly ttlSeconds?: number;
  /** Issue time. Default: now. */
  readonly now?: Date;
}

/** Protected header of a caller token. */
export interface CallerTokenHeader {
  /** Always `EdDSA` (Ed25519). */
  readonly alg: 'EdDSA';
  /** Always `JWT`. */
  readonly typ: 'JWT';
  /** The verification method id of the issuer's key, `did:key:z6Mk...#z6Mk...`. */
  readonly kid: string;
}

/** Claims of a caller token. */
export interface CallerTokenClaims {
  /** The caller's did:key. */
  readonly iss: string;
  /** The caller's did:key again: the caller speaks for itself. */
  readonly sub: string;
  /** The intended service (`griot-registry`, `griot-content`). */
  readonly aud: string;
  /** Issue time, seconds since the epoch. */
  readonly iat: number;
  /** Expiry time, seconds since the epoch. */
  readonly exp: number;
  /** Unique token id, for replay detection. */
  readonly jti: string;
}

/**
 * Creates a caller token: a compact EdDSA JWT signed by the caller's
 * Ed25519 key, naming its did:key as issuer and subject (see the format above).
 *
 * @param options - Key pair, audience, optional lifetime and clock.
 * @returns The compact JWT.
 * @throws RangeError for an empty audience or a non-positive, non-integer lifetime;
 *   {@link DidError} `UNSUPPORTED_KEY_TYPE` for a non-Ed25519 key.
 */
export function createCallerToken(options: CreateCallerTokenOptions): string {
  const ttlSeconds = options.ttlSeconds ?? DEFAULT_CALLER_TOKEN_TTL_SECONDS;
  if (!Number.isSafeInteger(ttlSeconds) || ttlSeconds <= 0) {
    throw new RangeError(`ttlSeconds must be a positive integer, got ${ttlSeconds}`);
  }
  if (typeof options.audience !== 'string' || options.audience.length === 0) {
    throw new RangeError('audience must be a non-empty string');
  }
  const { privateKey } = options.keyPair;
  assertEd25519Key(privateKey, 'private');
  // The DID comes from the private key so a mismatched pair cannot mint a token for someone else.
  const did = didFromPublicKey(rawPublicKey(privateKey));
  const iat = Math.floor((options.now ?? new Date()).getTime() / 1000);

  const header: CallerTokenHeader = { alg: 'EdDSA', typ: 'JWT', kid: verificationMethodId(did) };
  const claims: CallerTokenClaims = {
    iss: did,
    sub: did,
    aud: options.audience,
    iat,
    exp: iat + ttlSeconds,
    jti: randomUUID(),
  };
  const signingInput = `${encodeJsonPart(header)}.${encodeJsonPart(claims)}`;
  const signature = sign(null, Buffer.from(signingInput, 'ascii'), privateKey);
  return `${signingInput}.${signature.toString('base64url')}`;
}

/** @deprecated Use {@link DEFAULT_CALLER_TOKEN_TTL_SECONDS}. */
export const DEFAULT_NODE_TOKEN_TTL_SECONDS = DEFAULT_CALLER_TOKEN_TTL_SECONDS;
/** @deprecated Use {@link CreateCallerTokenOptions}. */
export type CreateNodeTokenOptions = CreateCallerTokenOptions;
/** @deprecated Use {@link CallerTokenHeader}. */
export type NodeTokenHeader = CallerTokenHeader;
/** @deprecated Use {@link CallerTokenClaims}. */
export type NodeTokenClaims = CallerTokenClaims;
/** @deprecated Use {@link createCallerToken}: a node token is a caller token. */
export const createNodeToken = createCallerToken;
