/**
 * Entry point of the content store process.
 */
import { createLogger, runUntilSignalled } from '@griot/server-kit';
import { readContentStoreConfig } from './config';
import { startContentStore } from './server';

runUntilSignalled(async () => {
  const config = readContentStoreConfig();
  const logger = createLogger({ level: config.LOG_LEVEL, name: 'content-store' });
  const service = await startContentStore(config, logger);
  return () => service.stop();
}, 'content-store');
