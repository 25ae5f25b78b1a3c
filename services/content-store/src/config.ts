/**
 * The content store's configuration, read from environment variables.
 */
import { join } from 'node:path';
import { readConfig, vars, type ConfigOf } from '@griot/server-kit';

/** Every variable the content store reads, with its parser and default. */
export const contentStoreConfigSpec = {
  CONTENT_LISTEN: vars.address('127.0.0.1:50052'),
  CONTENT_DATABASE_URL: vars.postgresUrl(),
  GRIOT_DATA_DIR: vars.path('./.griot'),
  LOG_LEVEL: vars.logLevel('info'),
};

/** The content store's parsed configuration. */
export type ContentStoreConfig = ConfigOf<typeof contentStoreConfigSpec>;

/** Reads and validates the content store's configuration. */
export function readContentStoreConfig(env: NodeJS.ProcessEnv = process.env): ContentStoreConfig {
  return readConfig(contentStoreConfigSpec, env);
}

/** The folder of the content store's local blobs. */
export function fileStoreRoot(config: ContentStoreConfig): string {
  return join(config.GRIOT_DATA_DIR, 'content-store', 'blobs');
}
