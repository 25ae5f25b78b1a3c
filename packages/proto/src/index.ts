/**
 * The generated contracts of Griot, re-exported by service.
 *
 * Everything under `gen/` is written by `pnpm generate` (buf + ts-proto) and
 * committed; CI fails when it is stale.
 * @packageDocumentation
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export * as content from './gen/griot/content/v1/content_service';
export * as registry from './gen/griot/registry/v1/registry_service';
export * as health from './gen/grpc/health/v1/health';
export * as reflectionV1 from './gen/grpc/reflection/v1/reflection';
export * as reflectionV1alpha from './gen/grpc/reflection/v1alpha/reflection';
export * as rpcStatus from './gen/google/rpc/status';
export * as rpcErrorDetails from './gen/google/rpc/error_details';
export { Struct } from './gen/google/protobuf/struct';
export { Any } from './gen/google/protobuf/any';
/**
 * Path of the serialized FileDescriptorSet of every .proto file, imports
 * included: it stays in src/ (where `pnpm generate` writes it, and which the
 * package ships beside dist/), found from the sources and from the build alike.
 */
export const descriptorSetPath = join(__dirname, '..', 'src', 'descriptor-set.binpb');

/** Reads the serialized FileDescriptorSet of every .proto file, imports included. */
export function readDescriptorSet(): Buffer {
  return readFileSync(descriptorSetPath);
}
