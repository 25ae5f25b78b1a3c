/**
 * Caller authentication, the same on both services: the `authorization:
 * Bearer <token>` metadata of a call, a short-lived EdDSA JWT signed by the
 * caller's did:key (the format is described in `@griot/did`'s
 * `create-caller-token.ts` and in the README). Audience, lifetime and expiry
 * are checked (the skew tolerated on `iat` only, see `verifyCallerToken`),
 * then the token is recorded as used: a token is accepted once per service,
 * on any of its replicas. The answer is the caller's DID.
 */
import type { Metadata } from '@grpc/grpc-js';
import { DidError, parseDid, TokenError, verifyCallerToken } from '@griot/did';
import { ConfigError, type Parser } from './config';
import { unauthenticated } from './errors';
import type { UsedTokenStore } from './used-tokens';

/** How caller tokens are checked. */
export interface CallerAuthOptions {
  /** The audience tokens must name (`griot-registry`, `griot-content`). */
  audience: string;
  /** Tolerated clock skew, in seconds. */
  maxSkewSeconds: number;
  /** The service's clock. */
  now: () => Date;
  /** Where accepted tokens are remembered until they expire (the service's `used_tokens`). */
  usedTokens: UsedTokenStore;
}

/**
 * Reads and verifies the caller's token.
 * @returns The caller's did:key.
 * @throws UNAUTHENTICATED (see {@link callerAuthenticator}).
 */
export type CallerAuthenticator = (metadata: Metadata) => Promise<string>;

const HOW = 'send authorization metadata "Bearer <JWT signed by your did:key>" (griot token --key FILE makes one)';

/**
 * Makes the authenticator of a service's calls.
 * @returns A function answering the caller's did:key, or throwing UNAUTHENTICATED
 *   with reason MISSING_CREDENTIALS, MALFORMED_AUTHORIZATION, or the token's
 *   reason: MALFORMED_TOKEN, UNSUPPORTED_ALGORITHM, BAD_SIGNATURE,
 *   ISSUER_SUBJECT_MISMATCH, WRONG_AUDIENCE, TOKEN_LIFETIME_TOO_LONG,
 *   TOKEN_NOT_YET_VALID or TOKEN_EXPIRED; TOKEN_REPLAYED when the token was
 *   already accepted once by this service.
 */
export function callerAuthenticator(options: CallerAuthOptions): CallerAuthenticator {
  return async (metadata) => {
    const values = metadata.get('authorization');
    if (values.length === 0) throw unauthenticated('MISSING_CREDENTIALS', `missing authorization metadata: ${HOW}`);
    if (values.length > 1) throw unauthenticated('MALFORMED_AUTHORIZATION', `authorization metadata was sent ${values.length} times; ${HOW} once`);
    const value = String(values[0]);
    const match = /^Bearer +([^ ]+)$/i.exec(value.trim());
    if (!match) throw unauthenticated('MALFORMED_AUTHORIZATION', `authorization metadata is not "Bearer <token>"; ${HOW}`);
    let token;
    try {
      token = verifyCallerToken(match[1]!, { audience: options.audience, maxSkewSeconds: options.maxSkewSeconds, now: options.now() });
    } catch (err) {
      if (err instanceof TokenError) throw unauthenticated(err.reason, `caller token rejected: ${err.message}`);
      throw err;
    }
    // Kept past exp by the skew: replicas whose clocks differ by less than the skew all still find it.
    const keepUntil = new Date((token.expiresAt + options.maxSkewSeconds) * 1000);
    if (!(await options.usedTokens.firstUse(token.did, token.jti, keepUntil))) {
      throw unauthenticated('TOKEN_REPLAYED', `caller token rejected: token ${JSON.stringify(token.jti.slice(0, 64))} of ${token.did} was already used; make a fresh token for each call`);
    }
    return token.did;
  };
}

/**
 * A configuration parser of a comma-separated list of did:keys (operators,
 * writers): empty or unset is the empty set; a value that is not an Ed25519
 * did:key is a configuration error naming it.
 */
export function didListVar(): Parser<ReadonlySet<string>> {
  return (raw, name) => {
    const dids = new Set<string>();
    for (const part of (raw ?? '').split(',')) {
      const did = part.trim();
      if (did === '') continue;
      try {
        parseDid(did);
      } catch (err) {
        if (!(err instanceof DidError)) throw err;
        throw new ConfigError(name, `"${did.length > 80 ? `${did.slice(0, 80)}…` : did}" is not an Ed25519 did:key (${err.message})`);
      }
      dids.add(did);
    }
    return dids;
  };
}
