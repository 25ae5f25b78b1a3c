/**
 * `node dist/migrate.js [latest|rollback|rollback-all]`: runs the content
 * store's migrations against its database (CONTENT_DATABASE_URL, or the
 * embedded one under GRIOT_DATA_DIR), without starting the service. Deployed
 * with the service (`pnpm deploy`, the image), it is what a cluster runs once
 * before a rollout (the migrate Jobs under deploy/kubernetes/).
 */
import { CONTENT_STORE_MIGRATIONS_TABLE, contentStoreMigrations } from '@griot/migrations';
import { MIGRATE_ACTIONS, migrateMain, runMigrateCommand } from '@griot/server-kit';

migrateMain(() =>
  runMigrateCommand(
    [{ name: 'content-store', urlVariable: 'CONTENT_DATABASE_URL', migrations: contentStoreMigrations, table: CONTENT_STORE_MIGRATIONS_TABLE }],
    process.argv[2] ?? 'latest',
    `node dist/migrate.js [${MIGRATE_ACTIONS.join('|')}]`,
  ),
);
