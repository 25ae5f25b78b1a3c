/**
 * `griot.json`, the descriptor at the root of a package folder: name, version,
 * node class and dependencies (name → version range).
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { checkManifestFields } from '@griot/did';
import { PackageError } from './errors';

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

const NAME = /^(@[a-z0-9][a-z0-9._~-]*\/)?[a-z0-9][a-z0-9._~-]*$/;
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
 * Checks parsed `griot.json` content with the registry's own field rules
 * (@griot/did checkManifestFields): a name, a semantic version, a node class,
 * dependencies with version ranges. Every field at fault is named in one message.
 *
 * @param json - The parsed JSON.
 * @param source - Where it came from, for messages.
 * @throws {@link PackageError} naming the first field at fault.
 */
export function parseDescriptor(json: unknown, source = GRIOT_JSON): PackageDescriptor {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new PackageError(`${source}: must be a JSON object`);
  }
  const r = json as Record<string, unknown>;
  const { violations, dependencies } = checkManifestFields({ dependencies: {}, ...r }, { descriptorOnly: true });
  // Also a safe relative path, as the agent installs under NAME/VERSION.
  if (violations.length === 0 && !isValidPackageName(r['name'])) violations.push({ field: 'name', description: `"${String(r['name'])}" is not a package name such as "hello" or "@acme/hello"` });
  if (violations.length > 0) throw new PackageError(`${source}: ${violations.map((v) => `"${v.field}" ${v.description}`).join('; ')}`, violations);
  return { name: r['name'] as string, version: r['version'] as string, nodeClass: r['nodeClass'] as string, dependencies };
}

/**
 * Reads and checks `DIR/griot.json`.
 *
 * @param dir - The package folder.
 * @throws {@link PackageError} when the file is missing, not JSON or invalid.
 */
export async function readDescriptor(dir: string): Promise<PackageDescriptor> {
  const path = join(dir, GRIOT_JSON);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err: unknown) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new PackageError(code === 'ENOENT' ? `${path} not found: a package folder needs a ${GRIOT_JSON}` : `cannot read ${path}: ${(err as Error).message}`, [], { cause: err });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err: unknown) {
    throw new PackageError(`${path} is not valid JSON: ${(err as Error).message}`, [], { cause: err });
  }
  return parseDescriptor(json, path);
}
