/**
 * The registry's configuration, read from environment variables.
 */
import { readConfig, vars, type ConfigOf } from '@griot/server-kit';

/** Every variable the registry reads, with its parser and default. */
export const registryConfigSpec = {
  REGISTRY_LISTEN: vars.address('127.0.0.1:50051'),
  REGISTRY_DATABASE_URL: vars.postgresUrl(),
  GRIOT_DATA_DIR: vars.path('./.griot'),
  LOG_LEVEL: vars.logLevel('info'),
  CONTENT_STORE_ADDR: vars.address('127.0.0.1:50052'),
};

/** The registry's parsed configuration. */
export type RegistryConfig = ConfigOf<typeof registryConfigSpec>;

/** Reads and validates the registry's configuration. */
export function readRegistryConfig(env: NodeJS.ProcessEnv = process.env): RegistryConfig {
  return readConfig(registryConfigSpec, env);
}
