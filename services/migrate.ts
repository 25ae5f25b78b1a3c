/**
 * `pnpm migrate [registry|content-store|all] [latest|rollback|rollback-all]`:
 * runs a service's migrations against its configured database (the same
 * variables as the service), without starting it.
 */
import { contentStoreMigrations, registryMigrations } from '@griot/migrations';
import { createLogger, embeddedDatabaseVar, openDatabase, readConfig, runMigrations, vars, type MigrateAction } from '@griot/server-kit';

const ACTIONS: MigrateAction[] = ['latest', 'rollback', 'rollback-all'];
const [target = 'all', action = 'latest'] = process.argv.slice(2);

async function main(): Promise<void> {
  if (!['registry', 'content-store', 'all'].includes(target) || !ACTIONS.includes(action as MigrateAction)) {
    process.stderr.write(`usage: pnpm migrate [registry|content-store|all] [${ACTIONS.join('|')}]\n`);
    process.exit(2);
  }
  const config = readConfig({
    REGISTRY_DATABASE_URL: vars.postgresUrl(),
    CONTENT_DATABASE_URL: vars.postgresUrl(),
    GRIOT_DATA_DIR: vars.path('./.griot'),
    GRIOT_EMBEDDED_DATABASE: embeddedDatabaseVar(),
    LOG_LEVEL: vars.logLevel('info'),
  });
  const logger = createLogger({ level: config.LOG_LEVEL });
  const services = [
    { name: 'registry', url: config.REGISTRY_DATABASE_URL, migrations: registryMigrations, table: 'registry_migrations' },
    { name: 'content-store', url: config.CONTENT_DATABASE_URL, migrations: contentStoreMigrations, table: 'content_store_migrations' },
  ].filter((s) => target === 'all' || s.name === target);
  for (const s of services) {
    const db = await openDatabase({ url: s.url, dataDir: config.GRIOT_DATA_DIR, name: s.name, logger, embedded: config.GRIOT_EMBEDDED_DATABASE });
    try {
      const names = await runMigrations(db.knex, s.migrations, s.table, action as MigrateAction);
      logger.info({ service: s.name, action, migrations: names }, names.length ? 'done' : 'nothing to do');
    } finally {
      await db.close();
    }
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`migrate: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
