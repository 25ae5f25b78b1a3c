/**
 * `@griot/client`: the TypeScript client of Griot's registry and content
 * store. Promise clients with a deadline per call, retries with jittered
 * backoff for reads, TLS and mutual TLS, and one error type with the gRPC
 * status and its decoded details; a fresh caller token of the caller's
 * identity on every call; resumable uploads, verified and ranged downloads,
 * installation logs that survive dropped streams, and publishing.
 *
 * @packageDocumentation
 */
export { GriotClient, DEFAULT_CONTENT_ADDRESS, DEFAULT_REGISTRY_ADDRESS, type GriotClientOptions, type TlsOptions } from './griot-client';
export { RegistryClient } from './registry-client';
export { ContentClient } from './content-client';
export {
  callUnary,
  backoffDelay,
  attemptMetadata,
  DEFAULT_DEADLINE_MS,
  DEFAULT_RETRY_POLICY,
  type CallOptions,
  type CallSite,
  type RequestOf,
  type RetryPolicy,
  type UnaryStarter,
} from './call';
export {
  GriotClientError,
  PackageError,
  decodeStatusDetails,
  isServiceError,
  statusName,
  toGriotClientError,
  type FieldViolation,
  type GriotClientErrorInit,
  type StatusDetails,
} from './errors';
export {
  CONTENT_AUDIENCE,
  REGISTRY_AUDIENCE,
  bearerMetadata,
  callerMetadata,
  generateIdentity,
  identityFromKeyPair,
  readIdentity,
  writeIdentity,
  type Identity,
} from './tokens';
export { hashFile, uploadIdFor, UPLOAD_CHUNK_BYTES, type BlobDigest, type UploadOptions, type UploadOutcome } from './upload';
export { readContent as readContentChunks, type DownloadOptions, type ReadOptions, type ReadSource } from './download';
export {
  installationStatusName,
  isTerminalStatus,
  type FollowEnd,
  type FollowEvent,
  type FollowLine,
  type FollowOptions,
} from './follow-installation';
export { packDirectory, collectPackEntries, writeTarGz, PACK_MTIME, PACK_IGNORED_NAMES, type PackEntry, type PackResult } from './pack';
export { parseDescriptor, readDescriptor, isValidPackageName, isValidVersion, GRIOT_JSON, type PackageDescriptor } from './package-descriptor';
export {
  publish,
  buildManifest,
  checkSignedManifest,
  sameManifest,
  PACKAGE_CLASS_ID,
  ARTIFACT_MEDIA_TYPE,
  type PackedPackage,
  type PublishOptions,
  type PublishOutcome,
} from './publish';
/** The generated messages and enums of both services. */
export { content, registry } from '@griot/proto';
/** grpc-js's status codes and Metadata, as the client uses them. */
export { status, Metadata } from '@grpc/grpc-js';
