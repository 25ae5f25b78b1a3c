/**
 * `node dist/migrate.js [latest|rollback|rollback-all]`: runs the content-store's
 * migrations against its database (CONTENT_DATABASE_URL, or the embedded one
 * under GRIOT_DATA_DIR), without starting the service. Deployed with the
 * service (`pnpm deploy`, the image), it is what a cluster runs once before
 * a rollout (the migrate Jobs under deploy/kubernetes/).
 */
import { contentStoreMigrations } from '@griot/migrations';
import { createLogger, embeddedDatabaseVar, openDatabase, readConfig, runMigrations, vars, type MigrateAction } from '@griot/server-kit';

const ACTIONS: MigrateAction[] = ['latest', 'rollback', 'rollback-all'];

async function main(action = 'latest'): Promise<void> {
  if (!ACTIONS.includes(action as MigrateAction)) {
    process.stderr.write(`usage: node dist/migrate.js [${ACTIONS.join('|')}]\n`);
    process.exit(2);
  }
  const config = readConfig({
    CONTENT_DATABASE_URL: vars.postgresUrl(),
    GRIOT_DATA_DIR: vars.path('./.griot'),
    GRIOT_EMBEDDED_DATABASE: embeddedDatabaseVar(),
    LOG_LEVEL: vars.logLevel('info'),
  });
  const logger = createLogger({ level: config.LOG_LEVEL, name: 'content-store-migrate' });
  const db = await openDatabase({ url: config.CONTENT_DATABASE_URL, dataDir: config.GRIOT_DATA_DIR, name: 'content-store', logger, embedded: config.GRIOT_EMBEDDED_DATABASE });
  try {
    const names = await runMigrations(db.knex, contentStoreMigrations, 'content_store_migrations', action as MigrateAction);
    logger.info({ action, migrations: names }, names.length ? 'done' : 'nothing to do');
  } finally {
    await db.close();
  }
}

main(process.argv[2]).catch((err: unknown) => {
  process.stderr.write(`migrate: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
