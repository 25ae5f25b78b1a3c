/**
 * `pnpm migrate [registry|content-store|all] [latest|rollback|rollback-all]`:
 * runs a service's migrations against its configured database (the same
 * variables as the service), without starting it.
 */
import { CONTENT_STORE_MIGRATIONS_TABLE, contentStoreMigrations, REGISTRY_MIGRATIONS_TABLE, registryMigrations } from '@griot/migrations';
import { MIGRATE_ACTIONS, migrateMain, runMigrateCommand } from '@griot/server-kit';

const SERVICES = [
  { name: 'registry', urlVariable: 'REGISTRY_DATABASE_URL', migrations: registryMigrations, table: REGISTRY_MIGRATIONS_TABLE },
  { name: 'content-store', urlVariable: 'CONTENT_DATABASE_URL', migrations: contentStoreMigrations, table: CONTENT_STORE_MIGRATIONS_TABLE },
];
const [target = 'all', action = 'latest'] = process.argv.slice(2);
const usage = `pnpm migrate [registry|content-store|all] [${MIGRATE_ACTIONS.join('|')}]`;

if (!['registry', 'content-store', 'all'].includes(target)) {
  process.stderr.write(`usage: ${usage}\n`);
  process.exit(2);
}
migrateMain(() => runMigrateCommand(SERVICES.filter((s) => target === 'all' || s.name === target), action, usage));
