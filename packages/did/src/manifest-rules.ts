/**
 * The field rules of a package manifest, shared by the registry (which refuses
 * a manifest that breaks them) and the CLI (which checks griot.json and the
 * manifest it is about to sign before it uploads anything).
 */
import semver from 'semver';
import { DidError } from './did-error';
import { parseDid } from './did-key';

/** Package names: npm-like, lowercase, optionally scoped. */
const NAME = /^(@[a-z0-9][a-z0-9._~-]*\/)?[a-z0-9][a-z0-9._~-]*$/;
/** The longest package name. */
export const MAX_PACKAGE_NAME = 214;
/** The longest node class. */
export const MAX_NODE_CLASS = 255;
const DIGEST = /^sha256:([0-9a-f]{64})$/;

/** A field at fault: its path (such as `version` or `artifact.size`) and what is wrong. */
export interface ManifestFieldViolation {
  readonly field: string;
  readonly description: string;
}

/** What a manifest's artifact says about the bytes. */
export interface ManifestArtifact {
  /** `sha256:<hex>`. */
  digest: string;
  /** The hex part of the digest. */
  sha256: string;
  /** The artifact's size in bytes. */
  size: number;
  /** Its media type, such as `application/gzip`. */
  mediaType: string;
}

/** Checks a package name; returns a description of the problem, or undefined. */
export function packageNameProblem(name: string): string | undefined {
  if (name.length === 0) return 'is required';
  if (name.length > MAX_PACKAGE_NAME) return `is ${name.length} characters long, at most ${MAX_PACKAGE_NAME} allowed`;
  if (!NAME.test(name)) return `"${name.slice(0, 80)}" is not a package name (lowercase letters, digits, ".", "_", "~", "-", optionally @scope/)`;
  return undefined;
}

/** Checks a version; returns a description of the problem, or undefined. */
export function versionProblem(version: unknown): string | undefined {
  if (typeof version !== 'string' || version === '') return 'is required: a semantic version such as 1.2.3';
  if (semver.valid(version) !== version) return `"${version.slice(0, 80)}" is not a semantic version such as 1.2.3`;
  return undefined;
}

/**
 * Checks the fields of a manifest (not its size, nesting or proof). With
 * `descriptorOnly`, only what griot.json holds: name, version, nodeClass and
 * dependencies. Every field at fault is reported, one violation each.
 *
 * @returns The violations (empty when valid), the dependencies and the artifact as parsed.
 */
export function checkManifestFields(
  manifest: Record<string, unknown>,
  options: { descriptorOnly?: boolean } = {},
): { violations: ManifestFieldViolation[]; dependencies: Record<string, string>; artifact?: ManifestArtifact } {
  const violations: ManifestFieldViolation[] = [];
  const bad = (field: string, description: string) => violations.push({ field, description });

  const name = manifest['name'];
  if (typeof name !== 'string') bad('name', 'is required: the package name, a string');
  else {
    const problem = packageNameProblem(name);
    if (problem) bad('name', problem);
  }

  const version = versionProblem(manifest['version']);
  if (version) bad('version', version);

  const nodeClass = manifest['nodeClass'];
  if (typeof nodeClass !== 'string' || nodeClass === '') bad('nodeClass', 'is required: the class of node the package is for, a string');
  else if (nodeClass.length > MAX_NODE_CLASS) bad('nodeClass', `is ${nodeClass.length} characters long, at most ${MAX_NODE_CLASS} allowed`);

  const dependencies = manifest['dependencies'];
  const deps: Record<string, string> = {};
  if (dependencies === undefined || dependencies === null || typeof dependencies !== 'object' || Array.isArray(dependencies)) {
    bad('dependencies', 'is required: an object of package name to version range ({} for none)');
  } else {
    for (const [depName, range] of Object.entries(dependencies as Record<string, unknown>)) {
      const problem = packageNameProblem(depName);
      if (problem) bad(`dependencies.${depName}`, `name ${problem}`);
      else if (typeof range !== 'string' || semver.validRange(range) === null) {
        bad(`dependencies.${depName}`, `${JSON.stringify(range)?.slice(0, 80)} is not a version range such as ^1.2.0`);
      } else if (depName === name) bad(`dependencies.${depName}`, 'a package cannot depend on itself');
      else deps[depName] = range;
    }
  }
  if (options.descriptorOnly === true) return { violations, dependencies: deps };

  const artifact = manifest['artifact'];
  let descriptor: ManifestArtifact | undefined;
  if (artifact === undefined || artifact === null || typeof artifact !== 'object' || Array.isArray(artifact)) {
    bad('artifact', 'is required: an object with digest, size and mediaType');
  } else {
    const a = artifact as Record<string, unknown>;
    const digest = a['digest'];
    const size = a['size'];
    const mediaType = a['mediaType'];
    const match = typeof digest === 'string' ? DIGEST.exec(digest) : null;
    if (typeof digest !== 'string' || digest === '') bad('artifact.digest', 'is required: sha256:<64 lowercase hexadecimal characters>');
    else if (!match) bad('artifact.digest', `"${digest.slice(0, 80)}" is not sha256:<64 lowercase hexadecimal characters>`);
    if (size === undefined || size === null) bad('artifact.size', 'is required: the artifact size in bytes');
    else if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) bad('artifact.size', `${JSON.stringify(size)} is not a whole number of bytes`);
    if (typeof mediaType !== 'string' || mediaType === '') bad('artifact.mediaType', 'is required: the media type, such as application/gzip');
    if (match && typeof size === 'number' && typeof mediaType === 'string') {
      descriptor = { digest: digest as string, sha256: match[1]!, size, mediaType };
    }
  }

  const author = manifest['author'];
  if (typeof author !== 'string' || author === '') bad('author', 'is required: the did:key of the author who signed the manifest');
  else {
    try {
      parseDid(author);
    } catch (err) {
      if (!(err instanceof DidError)) throw err;
      bad('author', `is not an Ed25519 did:key: ${err.message}`);
    }
  }
  return { violations, dependencies: deps, ...(descriptor ? { artifact: descriptor } : {}) };
}
