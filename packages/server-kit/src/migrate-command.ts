/**
 * The migrate commands (`pnpm migrate`, and each deployed service's
 * `node dist/migrate.js`): a service's migrations applied or rolled back on
 * its configured database (the service's own variables), without starting it.
 */
import { embeddedDatabaseVar } from './embedded-postgres';
import { readConfig, vars } from './config';
import { openDatabase } from './database';
import { createLogger } from './logger';
import { runMigrations, type MigrateAction, type MigrationModule } from './migrate';

/** What a migrate command can do. */
export const MIGRATE_ACTIONS: MigrateAction[] = ['latest', 'rollback', 'rollback-all'];

/** A service whose migrations a command runs. */
export interface MigratedService {
  /** The service's name, which names its embedded database. */
  name: string;
  /** The variable of its database URL, such as REGISTRY_DATABASE_URL. */
  urlVariable: string;
  /** Its migrations, oldest first. */
  migrations: MigrationModule[];
  /** Its knex migrations table. */
  table: string;
}

/**
 * Runs `action` for each service against the database its variables name,
 * logging what was applied; exits 2 on an unknown action.
 */
export async function runMigrateCommand(services: MigratedService[], action: string, usage: string): Promise<void> {
  if (!MIGRATE_ACTIONS.includes(action as MigrateAction)) {
    process.stderr.write(`usage: ${usage}\n`);
    process.exit(2);
  }
  const config = readConfig({
    GRIOT_DATA_DIR: vars.path('./.griot'),
    GRIOT_EMBEDDED_DATABASE: embeddedDatabaseVar(),
    LOG_LEVEL: vars.logLevel('info'),
  });
  const urls: Record<string, string | undefined> = readConfig(Object.fromEntries(services.map((s) => [s.urlVariable, vars.postgresUrl()])));
  const logger = createLogger({ level: config.LOG_LEVEL });
  for (const s of services) {
    const db = await openDatabase({ url: urls[s.urlVariable], dataDir: config.GRIOT_DATA_DIR, name: s.name, logger, embedded: config.GRIOT_EMBEDDED_DATABASE });
    try {
      const names = await runMigrations(db.knex, s.migrations, s.table, action as MigrateAction);
      logger.info({ service: s.name, action, migrations: names }, names.length ? 'done' : 'nothing to do');
    } finally {
      await db.close();
    }
  }
}

/** Runs a migrate command as a process's main: one line on stderr and exit 1 when it fails. */
export function migrateMain(run: () => Promise<void>): void {
  run().catch((err: unknown) => {
    process.stderr.write(`migrate: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
