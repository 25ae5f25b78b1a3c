/**
 * Both services' migration lists. Each service runs only its own, recorded in
 * its own knex migrations table.
 * @packageDocumentation
 */
export type { Migration } from './migration';
export { registryMigrations } from './registry';
export { contentStoreMigrations } from './content-store';
