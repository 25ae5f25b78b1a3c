/**
 * The registry's caller authentication: every call that acts for someone
 * (a node, an operator, an author) carries `authorization: Bearer <token>`,
 * a caller token signed by the caller's did:key with `aud`
 * REGISTRY_TOKEN_AUDIENCE. The check is the one both services share
 * (`@griot/server-kit`'s {@link callerAuthenticator}); it answers the DID.
 */
export { callerAuthenticator, type CallerAuthenticator, type CallerAuthOptions } from '@griot/server-kit';
