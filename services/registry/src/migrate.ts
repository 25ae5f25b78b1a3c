/**
 * `node dist/migrate.js [latest|rollback|rollback-all]`: runs the registry's
 * migrations against its database (REGISTRY_DATABASE_URL, or the embedded one
 * under GRIOT_DATA_DIR), without starting the service. Deployed with the
 * service (`pnpm deploy`, the image), it is what a cluster runs once before
 * a rollout (the migrate Jobs under deploy/kubernetes/).
 */
import { REGISTRY_MIGRATIONS_TABLE, registryMigrations } from '@griot/migrations';
import { MIGRATE_ACTIONS, migrateMain, runMigrateCommand } from '@griot/server-kit';

migrateMain(() =>
  runMigrateCommand(
    [{ name: 'registry', urlVariable: 'REGISTRY_DATABASE_URL', migrations: registryMigrations, table: REGISTRY_MIGRATIONS_TABLE }],
    process.argv[2] ?? 'latest',
    `node dist/migrate.js [${MIGRATE_ACTIONS.join('|')}]`,
  ),
);
