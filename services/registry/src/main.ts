/**
 * Entry point of the registry process.
 */
import { createLogger, runUntilSignalled } from '@griot/server-kit';
import { readRegistryConfig } from './config';
import { startRegistry } from './server';

runUntilSignalled(async () => {
  const config = readRegistryConfig();
  const logger = createLogger({ level: config.LOG_LEVEL, name: 'registry' });
  const service = await startRegistry(config, logger);
  return () => service.stop();
}, 'registry');
