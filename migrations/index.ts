/**
 * Both services' migration lists. Each service runs only its own, recorded in
 * its own knex migrations table.
 * @packageDocumentation
 */
export type { Migration } from './migration';
export { REGISTRY_MIGRATIONS_TABLE, registryMigrations } from './registry';
export { CONTENT_STORE_MIGRATIONS_TABLE, contentStoreMigrations } from './content-store';
