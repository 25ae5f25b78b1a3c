/**
 * `pnpm start`: both services in one process, on the embedded defaults unless
 * configured otherwise. The content store starts first and the registry is
 * wired to it by itself (CONTENT_STORE_ADDR is set to the content store's
 * bound address unless given).
 */
import { readContentStoreConfig, startContentStore } from '@griot/content-store';
import { readRegistryConfig, startRegistry } from '@griot/registry';
import { createLogger, runUntilSignalled } from '@griot/server-kit';

runUntilSignalled(async () => {
  const contentConfig = readContentStoreConfig();
  const registryConfig = readRegistryConfig({
    ...process.env,
    CONTENT_STORE_ADDR: process.env.CONTENT_STORE_ADDR || undefined,
  });
  const root = createLogger({ level: registryConfig.LOG_LEVEL });
  const content = await startContentStore(contentConfig, root.child({ service: 'content-store' }));
  const registry = await startRegistry(
    process.env.CONTENT_STORE_ADDR ? registryConfig : { ...registryConfig, CONTENT_STORE_ADDR: content.address },
    root.child({ service: 'registry' }),
  );
  root.info({ registry: registry.address, contentStore: content.address }, 'griot is ready');
  return async () => {
    await registry.stop();
    await content.stop();
  };
});
