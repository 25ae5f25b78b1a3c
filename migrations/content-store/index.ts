/**
 * The content store's migrations, in order. Each is `{ name, up, down }`; once
 * a migration has landed it is never edited: a change is a new migration.
 */
import type { Migration } from '../migration';
import * as laboxSchema from './001_labox_schema';
import * as blobsAndUploads from './002_blobs_and_uploads';
import * as manifestCreator from './003_manifest_creator';
import * as usedTokens from './004_used_tokens';

/** The content store's knex migrations table, where its applied migrations are recorded. */
export const CONTENT_STORE_MIGRATIONS_TABLE = 'content_store_migrations';

/** Every content-store migration, oldest first. */
export const contentStoreMigrations: Migration[] = [
  { name: '001_labox_schema', ...laboxSchema },
  { name: '002_blobs_and_uploads', ...blobsAndUploads },
  { name: '003_manifest_creator', ...manifestCreator },
  { name: '004_used_tokens', ...usedTokens },
];
