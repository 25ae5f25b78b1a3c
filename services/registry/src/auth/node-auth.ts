/**
 * Node authentication: the `authorization: Bearer <JWT>` metadata of calls
 * that act for a node, a short-lived EdDSA JWT signed by the node's did:key.
 * Audience, lifetime and expiry are checked with a bounded clock skew.
 */
import type { Metadata } from '@grpc/grpc-js';
import { TokenError, verifyNodeToken } from '@griot/did';
import { permissionDenied, unauthenticated } from '@griot/server-kit';

/** How node tokens are checked. */
export interface NodeAuthOptions {
  /** The audience tokens must name. */
  audience: string;
  /** Tolerated clock skew, in seconds. */
  maxSkewSeconds: number;
  /** The registry's clock. */
  now: () => Date;
}

/** Reads and verifies the caller's node token. */
export type NodeAuthenticator = (metadata: Metadata) => string;

const HOW = 'send authorization metadata "Bearer <JWT signed by the node\'s did:key>"';

/**
 * Makes the authenticator of node calls.
 * @returns A function answering the caller's did:key, or throwing UNAUTHENTICATED
 *   (MISSING_CREDENTIALS, MALFORMED_AUTHORIZATION, or the token's reason:
 *   TOKEN_EXPIRED, BAD_SIGNATURE, WRONG_AUDIENCE, ...).
 */
export function nodeAuthenticator(options: NodeAuthOptions): NodeAuthenticator {
  return (metadata) => {
    const values = metadata.get('authorization');
    if (values.length === 0) throw unauthenticated('MISSING_CREDENTIALS', `missing authorization metadata: ${HOW}`);
    if (values.length > 1) throw unauthenticated('MALFORMED_AUTHORIZATION', `authorization metadata was sent ${values.length} times; ${HOW} once`);
    const value = String(values[0]);
    const match = /^Bearer +([^ ]+)$/i.exec(value.trim());
    if (!match) throw unauthenticated('MALFORMED_AUTHORIZATION', `authorization metadata is not "Bearer <token>"; ${HOW}`);
    try {
      return verifyNodeToken(match[1]!, { audience: options.audience, maxSkewSeconds: options.maxSkewSeconds, now: options.now() }).did;
    } catch (err) {
      if (err instanceof TokenError) throw unauthenticated(err.reason, `node token rejected: ${err.message}`);
      throw err;
    }
  };
}

/**
 * Checks that the caller is the job's node.
 * @throws PERMISSION_DENIED NOT_JOB_NODE.
 */
export function requireSameNode(callerDid: string, targetNodeId: string, action: string): void {
  if (callerDid !== targetNodeId) {
    throw permissionDenied('NOT_JOB_NODE', `${callerDid} may not ${action}: the job belongs to node ${targetNodeId}`, { caller: callerDid, targetNodeId });
  }
}
