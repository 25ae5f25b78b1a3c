/**
 * The registry's migrations, in order. Each is `{ name, up, down }`; once a
 * migration has landed it is never edited: a change is a new migration.
 */
import type { Migration } from '../migration';
import * as seedSchema from './001_seed_schema';
import * as jobsAndLookups from './002_jobs_and_lookups';
import * as manifestPathIndex from './003_manifest_path_index';
import * as installationLogLines from './004_installation_log_lines';
import * as packageOwners from './005_package_owners';
import * as installationCreator from './006_installation_creator';
import * as usedTokens from './007_used_tokens';
import * as installationLogBytes from './008_installation_log_bytes';

/** The registry's knex migrations table, where its applied migrations are recorded. */
export const REGISTRY_MIGRATIONS_TABLE = 'registry_migrations';

/** Every registry migration, oldest first. */
export const registryMigrations: Migration[] = [
  { name: '001_seed_schema', ...seedSchema },
  { name: '002_jobs_and_lookups', ...jobsAndLookups },
  { name: '003_manifest_path_index', ...manifestPathIndex },
  { name: '004_installation_log_lines', ...installationLogLines },
  { name: '005_package_owners', ...packageOwners },
  { name: '006_installation_creator', ...installationCreator },
  { name: '007_used_tokens', ...usedTokens },
  { name: '008_installation_log_bytes', ...installationLogBytes },
];
