/**
 * Starts the services in-process for integration tests, on port 0 and a fresh
 * database (PostgreSQL or embedded PGlite in a temp folder).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readContentStoreConfig, startContentStore } from '@griot/content-store';
import { readRegistryConfig, startRegistry } from '@griot/registry';
import { silentLogger } from '@griot/server-kit';
import { createPostgresDatabase, type DbKind } from './database';

/** A service started for a test, with everything it made. */
export interface StartedService {
  /** `127.0.0.1:port`. */
  address: string;
  /** The service's PostgreSQL URL (undefined on PGlite), to look into its tables. */
  databaseUrl?: string;
  /** Stops the service and removes its database and data folder. */
  stop(): Promise<void>;
}

/** Makes a temp data folder and, for PostgreSQL, a fresh database. */
async function prepare(kind: DbKind): Promise<{ dataDir: string; url?: string; cleanup(): Promise<void> }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'griot-test-'));
  const pg = kind === 'postgres' ? await createPostgresDatabase() : undefined;
  return {
    dataDir,
    url: pg?.url,
    async cleanup() {
      await pg?.drop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Starts a content store on port 0. */
export async function startTestContentStore(kind: DbKind, env: NodeJS.ProcessEnv = {}): Promise<StartedService> {
  const p = await prepare(kind);
  const config = readContentStoreConfig({ CONTENT_LISTEN: '127.0.0.1:0', CONTENT_DATABASE_URL: p.url, GRIOT_DATA_DIR: p.dataDir, GRIOT_EMBEDDED_DATABASE: 'pglite', ...env });
  const service = await startContentStore(config, silentLogger());
  return {
    address: service.address,
    databaseUrl: p.url,
    async stop() {
      await service.stop(1000);
      await p.cleanup();
    },
  };
}

/** Starts a registry on port 0, talking to the content store at `contentStoreAddr`. */
export async function startTestRegistry(kind: DbKind, contentStoreAddr = '127.0.0.1:1', env: NodeJS.ProcessEnv = {}): Promise<StartedService> {
  const p = await prepare(kind);
  const config = readRegistryConfig({
    REGISTRY_LISTEN: '127.0.0.1:0',
    REGISTRY_DATABASE_URL: p.url,
    GRIOT_DATA_DIR: p.dataDir,
    GRIOT_EMBEDDED_DATABASE: 'pglite',
    CONTENT_STORE_ADDR: contentStoreAddr,
    ...env,
  });
  const service = await startRegistry(config, silentLogger());
  return {
    address: service.address,
    databaseUrl: p.url,
    async stop() {
      await service.stop(1000);
      await p.cleanup();
    },
  };
}
