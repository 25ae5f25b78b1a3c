/**
 * `griot.json`, the descriptor at the root of a package folder: name, version,
 * node class and dependencies (name → version range).
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CliError } from './cli-error';

/** The name of the descriptor file in a package folder. */
export const GRIOT_JSON = 'griot.json';

/** A package descriptor as read from `griot.json`. */
export interface PackageDescriptor {
  /** The package name: lowercase letters, digits, `.`, `_`, `-`, optionally `@scope/`. */
  readonly name: string;
  /** The version, such as `1.2.0`. */
  readonly version: string;
  /** The class of node the package is for. */
  readonly nodeClass: string;
  /** Dependencies: package name → version range. */
  readonly dependencies: Readonly<Record<string, string>>;
}

const NAME = /^(@[a-z0-9][a-z0-9._-]*\/)?[a-z0-9][a-z0-9._-]*$/;
const VERSION = /^[0-9A-Za-z][0-9A-Za-z.+-]*$/;

/** True when `name` is a valid package name (also safe as a relative path). */
export function isValidPackageName(name: unknown): name is string {
  return typeof name === 'string' && name.length <= 214 && NAME.test(name) && !name.split('/').some((s) => s === '..' || s === '.');
}

/** True when `version` is a valid version (also safe as one path segment). */
export function isValidVersion(version: unknown): version is string {
  return typeof version === 'string' && version.length <= 128 && VERSION.test(version);
}

/**
 * Checks parsed `griot.json` content.
 *
 * @param json - The parsed JSON.
 * @param source - Where it came from, for messages.
 * @throws {@link CliError} naming the first field at fault.
 */
export function parseDescriptor(json: unknown, source = GRIOT_JSON): PackageDescriptor {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new CliError(`${source}: must be a JSON object`);
  }
  const r = json as Record<string, unknown>;
  if (!isValidPackageName(r['name'])) {
    throw new CliError(`${source}: "name" must be a package name such as "hello" or "@acme/hello" (lowercase letters, digits, . _ -)`);
  }
  if (!isValidVersion(r['version'])) {
    throw new CliError(`${source}: "version" must be a version such as "1.0.0"`);
  }
  if (typeof r['nodeClass'] !== 'string' || r['nodeClass'].trim() === '') {
    throw new CliError(`${source}: "nodeClass" must be a non-empty string`);
  }
  const deps = r['dependencies'] ?? {};
  if (typeof deps !== 'object' || deps === null || Array.isArray(deps)) {
    throw new CliError(`${source}: "dependencies" must be an object of name → version range`);
  }
  const dependencies: Record<string, string> = {};
  for (const [name, range] of Object.entries(deps as Record<string, unknown>)) {
    if (!isValidPackageName(name)) throw new CliError(`${source}: dependency name ${JSON.stringify(name)} is not a package name`);
    if (typeof range !== 'string' || range.trim() === '') {
      throw new CliError(`${source}: dependency "${name}" must have a version range string`);
    }
    dependencies[name] = range;
  }
  return { name: r['name'], version: r['version'], nodeClass: r['nodeClass'], dependencies };
}

/**
 * Reads and checks `DIR/griot.json`.
 *
 * @param dir - The package folder.
 * @throws {@link CliError} when the file is missing, not JSON or invalid.
 */
export async function readDescriptor(dir: string): Promise<PackageDescriptor> {
  const path = join(dir, GRIOT_JSON);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err: unknown) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new CliError(code === 'ENOENT' ? `${path} not found: a package folder needs a ${GRIOT_JSON}` : `cannot read ${path}: ${(err as Error).message}`, 1, { cause: err });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err: unknown) {
    throw new CliError(`${path} is not valid JSON: ${(err as Error).message}`, 1, { cause: err });
  }
  return parseDescriptor(json, path);
}
