/**
 * Entry point of the registry process.
 */
import { createLogger, runUntilSignalled, startTracing } from '@griot/server-kit';
import { readRegistryConfig } from './config';
import { startRegistry } from './server';

runUntilSignalled(async () => {
  const config = readRegistryConfig();
  const logger = createLogger({ level: config.LOG_LEVEL, name: 'registry' });
  // Off unless OTEL_TRACES_EXPORTER / OTEL_EXPORTER_OTLP_ENDPOINT say otherwise.
  const tracing = startTracing({ serviceName: 'griot-registry' });
  const service = await startRegistry(config, logger);
  return async () => {
    await service.stop();
    await tracing?.shutdown();
  };
}, 'registry');
