/**
 * `pnpm start`: both services in one process, on the embedded defaults unless
 * configured otherwise: one embedded PostgreSQL server under GRIOT_DATA_DIR,
 * with a database for each service, started with the first and stopped after
 * the last. The content store starts first and the registry is wired to it
 * by itself (CONTENT_STORE_ADDR is set to the content store's bound address
 * unless given). `pnpm start` runs it with `exec`, so that pnpm's child is
 * this process and a SIGTERM to pnpm ends in this process's exit code (0
 * after a graceful stop) rather than in the shell's death by the signal.
 */
import { readContentStoreConfig, startContentStore } from '@griot/content-store';
import { readRegistryConfig, startRegistry } from '@griot/registry';
import { createLogger, runUntilSignalled, startTracing } from '@griot/server-kit';

/** The admin HTTP addresses `pnpm start` serves when their variables are unset (set them empty to turn them off). */
const DEFAULT_REGISTRY_ADMIN_LISTEN = '127.0.0.1:9051';
const DEFAULT_CONTENT_ADMIN_LISTEN = '127.0.0.1:9052';

runUntilSignalled(async () => {
  const contentConfig = readContentStoreConfig({ ...process.env, CONTENT_ADMIN_LISTEN: process.env.CONTENT_ADMIN_LISTEN ?? DEFAULT_CONTENT_ADMIN_LISTEN });
  const registryConfig = readRegistryConfig({
    ...process.env,
    CONTENT_STORE_ADDR: process.env.CONTENT_STORE_ADDR || undefined,
    REGISTRY_ADMIN_LISTEN: process.env.REGISTRY_ADMIN_LISTEN ?? DEFAULT_REGISTRY_ADMIN_LISTEN,
  });
  // Off unless OTEL_TRACES_EXPORTER / OTEL_EXPORTER_OTLP_ENDPOINT say otherwise.
  const tracing = startTracing({ serviceName: 'griot' });
  const root = createLogger({ level: registryConfig.LOG_LEVEL });
  root.info({ dataDir: contentConfig.GRIOT_DATA_DIR, database: contentConfig.CONTENT_DATABASE_URL ? 'external' : contentConfig.GRIOT_EMBEDDED_DATABASE }, 'starting griot');
  const content = await startContentStore(contentConfig, root.child({ service: 'content-store' }));
  let registry;
  try {
    registry = await startRegistry(
      process.env.CONTENT_STORE_ADDR ? registryConfig : { ...registryConfig, CONTENT_STORE_ADDR: content.address },
      root.child({ service: 'registry' }),
    );
  } catch (err) {
    // The content store (and the embedded server it may share) stops before the error ends the process.
    await content.stop().catch((stopErr: unknown) => root.warn({ err: stopErr }, 'the content store did not stop cleanly'));
    throw err;
  }
  if (tracing) root.info({ exporter: tracing.exporter }, 'tracing on');
  root.info({ registry: registry.address, contentStore: content.address, registryAdmin: registry.adminAddress, contentStoreAdmin: content.adminAddress }, 'griot is ready');
  return async () => {
    await registry.stop();
    await content.stop();
    await tracing?.shutdown();
  };
});
