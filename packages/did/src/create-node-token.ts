import { randomUUID, sign } from 'node:crypto';
import { encodeJsonPart } from './compact-jws';
import { didFromPublicKey, verificationMethodId } from './did-key';
import { assertEd25519Key, rawPublicKey, type Ed25519KeyPair } from './ed25519-keys';

/** Default lifetime of a node identity token, in seconds. */
export const DEFAULT_NODE_TOKEN_TTL_SECONDS = 60;

/** Options of {@link createNodeToken}. */
export interface CreateNodeTokenOptions {
  /** The node's key pair; its did:key becomes `iss` and `sub`. */
  readonly keyPair: Ed25519KeyPair;
  /** The service the token is for (`aud`). */
  readonly audience: string;
  /** Lifetime in seconds, a positive integer. Default 60. */
  readonly ttlSeconds?: number;
  /** Issue time. Default: now. */
  readonly now?: Date;
}

/** Protected header of a node identity token. */
export interface NodeTokenHeader {
  /** Always `EdDSA` (Ed25519). */
  readonly alg: 'EdDSA';
  /** Always `JWT`. */
  readonly typ: 'JWT';
  /** The verification method id of the issuer's key, `did:key:z6Mk...#z6Mk...`. */
  readonly kid: string;
}

/** Claims of a node identity token. */
export interface NodeTokenClaims {
  /** The node's did:key. */
  readonly iss: string;
  /** The node's did:key again: the node speaks for itself. */
  readonly sub: string;
  /** The intended service. */
  readonly aud: string;
  /** Issue time, seconds since the epoch. */
  readonly iat: number;
  /** Expiry time, seconds since the epoch. */
  readonly exp: number;
  /** Unique token id, for replay detection. */
  readonly jti: string;
}

/**
 * Creates a node identity token: a compact EdDSA JWT signed by the node's
 * Ed25519 key, naming its did:key as issuer and subject.
 *
 * @param options - Key pair, audience, optional lifetime and clock.
 * @returns The compact JWT.
 * @throws RangeError for an empty audience or a non-positive, non-integer lifetime;
 *   {@link DidError} `UNSUPPORTED_KEY_TYPE` for a non-Ed25519 key.
 */
export function createNodeToken(options: CreateNodeTokenOptions): string {
  const ttlSeconds = options.ttlSeconds ?? DEFAULT_NODE_TOKEN_TTL_SECONDS;
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

  const header: NodeTokenHeader = { alg: 'EdDSA', typ: 'JWT', kid: verificationMethodId(did) };
  const claims: NodeTokenClaims = {
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
