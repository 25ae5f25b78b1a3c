/**
 * The registry as a library: start it in-process (tests, the one-command launcher).
 * @packageDocumentation
 */
export * from './config';
export * from './server';
export { contentStoreChecker, registryManifestId, type ArtifactChecker, type ContentStoreIdentity, type KeptArtifact } from './clients/content-store-client';
