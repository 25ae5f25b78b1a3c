/**
 * The names of caller authentication from when only nodes had tokens; the
 * authenticator answers any caller's DID (see `caller-auth.ts`).
 */
import { callerAuthenticator, type CallerAuthenticator, type CallerAuthOptions } from './caller-auth';
import { requireJobNode } from './job-access';

/** @deprecated Use {@link CallerAuthOptions}. */
export type NodeAuthOptions = CallerAuthOptions;
/** @deprecated Use {@link CallerAuthenticator}. */
export type NodeAuthenticator = CallerAuthenticator;
/** @deprecated Use {@link callerAuthenticator}. */
export const nodeAuthenticator = callerAuthenticator;
/** @deprecated Use {@link requireJobNode}. */
export const requireSameNode = requireJobNode;
