/**
 * `node dist/migrate.js [latest|rollback|rollback-all]`: runs the registry's
 * migrations against its database (REGISTRY_DATABASE_URL, or the embedded one
 * under GRIOT_DATA_DIR), without starting the service. Deployed with the
 * service (`pnpm deploy`, the image), it is what a cluster runs once before
 * a rollout (the migrate Jobs under deploy/kubernetes/).
 */
import { registryMigrations } from '@griot/migrations';
import { createLogger, embeddedDatabaseVar, openDatabase, readConfig, runMigrations, vars, type MigrateAction } from '@griot/server-kit';

const ACTIONS: MigrateAction[] = ['latest', 'rollback', 'rollback-all'];

async function main(action = 'latest'): Promise<void> {
  if (!ACTIONS.includes(action as MigrateAction)) {
    process.stderr.write(`usage: node dist/migrate.js [${ACTIONS.join('|')}]\n`);
    process.exit(2);
  }
  const config = readConfig({
    REGISTRY_DATABASE_URL: vars.postgresUrl(),
    GRIOT_DATA_DIR: vars.path('./.griot'),
    GRIOT_EMBEDDED_DATABASE: embeddedDatabaseVar(),
    LOG_LEVEL: vars.logLevel('info'),
  });
  const logger = createLogger({ level: config.LOG_LEVEL, name: 'registry-migrate' });
  const db = await openDatabase({ url: config.REGISTRY_DATABASE_URL, dataDir: config.GRIOT_DATA_DIR, name: 'registry', logger, embedded: config.GRIOT_EMBEDDED_DATABASE });
  try {
    const names = await runMigrations(db.knex, registryMigrations, 'registry_migrations', action as MigrateAction);
    logger.info({ action, migrations: names }, names.length ? 'done' : 'nothing to do');
  } finally {
    await db.close();
  }
}

main(process.argv[2]).catch((err: unknown) => {
  process.stderr.write(`migrate: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
