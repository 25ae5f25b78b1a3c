/**
 * Entry point of the content store process.
 */
import { createLogger, runUntilSignalled, startTracing } from '@griot/server-kit';
import { readContentStoreConfig } from './config';
import { startContentStore } from './server';

runUntilSignalled(async () => {
  const config = readContentStoreConfig();
  const logger = createLogger({ level: config.LOG_LEVEL, name: 'content-store' });
  // Off unless OTEL_TRACES_EXPORTER / OTEL_EXPORTER_OTLP_ENDPOINT say otherwise.
  const tracing = startTracing({ serviceName: 'griot-content-store' });
  const service = await startContentStore(config, logger);
  return async () => {
    await service.stop();
    await tracing?.shutdown();
  };
}, 'content-store');
