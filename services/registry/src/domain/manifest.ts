/**
 * The signed package manifest: its required fields, their shapes, the size
 * limit, and the author's eddsa-jcs-2022 proof. Knows nothing of gRPC; throws
 * {@link GriotError}s.
 */
import { ProofError, parseDid, verifyDocument, DidError } from '@griot/did';
import { invalidArgument, invalidField, type FieldViolation } from '@griot/server-kit';
import semver from 'semver';

/** What a manifest's artifact says about the bytes. */
export interface ArtifactDescriptor {
  /** `sha256:<hex>`. */
  digest: string;
  /** The hex part of the digest. */
  sha256: string;
  /** The artifact's size in bytes. */
  size: number;
  /** Its media type, such as `application/gzip`. */
  mediaType: string;
}

/** A manifest whose fields and proof were checked. */
export interface ValidManifest {
  /** The package name. */
  name: string;
  /** Its semantic version. */
  version: string;
  /** The class of node it is for. */
  nodeClass: string;
  /** Dependency name → semver range. */
  dependencies: Record<string, string>;
  /** The artifact. */
  artifact: ArtifactDescriptor;
  /** The author's did:key. */
  author: string;
  /** The proof value (base58btc multibase of the signature). */
  proofValue: string;
  /** The whole signed manifest, as given. */
  document: Record<string, unknown>;
}

/** Package names: npm-like, lowercase, optionally scoped. */
const NAME = /^(@[a-z0-9][a-z0-9._~-]*\/)?[a-z0-9][a-z0-9._~-]*$/;
const MAX_NAME = 214;
const DIGEST = /^sha256:([0-9a-f]{64})$/;

/** Deepest nesting of objects and lists in a manifest or a manifest filter (the protobuf decoder stops near 33 anyway). */
export const MAX_JSON_DEPTH = 32;

/** Why a JSON value cannot be stored or queried as JSONB. */
export interface JsonShapeProblem {
  /** TOO_DEEP or NUL_CHARACTER. */
  kind: 'TOO_DEEP' | 'NUL_CHARACTER';
  /** The problem in words. */
  description: string;
}

/**
 * Checks a JSON value before anything recurses into it (JSON.stringify,
 * canonicalization, PostgreSQL): no nesting deeper than `maxDepth`, and no
 * NUL character in a key or a string, which JSONB rejects. Walks without
 * recursion, so a value of any depth is safe to check.
 */
export function jsonShapeProblem(value: unknown, maxDepth = MAX_JSON_DEPTH): JsonShapeProblem | undefined {
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!;
    if (typeof v === 'string') {
      if (v.includes('\u0000')) return { kind: 'NUL_CHARACTER', description: 'contains a NUL character in a string' };
      continue;
    }
    if (v === null || typeof v !== 'object') continue;
    if (depth >= maxDepth) return { kind: 'TOO_DEEP', description: `nests objects and lists deeper than ${maxDepth} levels` };
    for (const [key, child] of Object.entries(v)) {
      if (key.includes('\u0000')) return { kind: 'NUL_CHARACTER', description: 'contains a NUL character in a key' };
      stack.push([child, depth + 1]);
    }
  }
  return undefined;
}

/** The byte length of a manifest as JSON. */
export function manifestBytes(manifest: unknown): number {
  return Buffer.byteLength(JSON.stringify(manifest ?? null), 'utf8');
}

/** Checks a package name; returns a description of the problem, or undefined. */
export function packageNameProblem(name: string): string | undefined {
  if (name.length === 0) return 'is required';
  if (name.length > MAX_NAME) return `is ${name.length} characters long, at most ${MAX_NAME} allowed`;
  if (!NAME.test(name)) return `"${name.slice(0, 80)}" is not a package name (lowercase letters, digits, ".", "_", "~", "-", optionally @scope/)`;
  return undefined;
}

/**
 * Checks a manifest's fields and size, then its proof against its author.
 * Every missing or invalid field is reported at once, one field violation each.
 * @throws INVALID_ARGUMENT MANIFEST_TOO_LARGE, INVALID_MANIFEST (field
 *   violations `manifest.<field>`), or the proof's reason (INVALID_SIGNATURE,
 *   UNEXPECTED_CONTROLLER, PROOF_MISSING, ...) on `manifest.proof`.
 */
export function validateManifest(manifest: Record<string, unknown> | undefined, options: { maxBytes: number }): ValidManifest {
  if (manifest === undefined) throw invalidField('manifest', 'MANIFEST_REQUIRED', 'is required: the signed package manifest');
  // Before anything recurses into it (size, canonicalization) or stores it as JSONB.
  const shape = jsonShapeProblem(manifest);
  if (shape) {
    throw invalidArgument(shape.kind === 'TOO_DEEP' ? 'MANIFEST_TOO_DEEP' : 'INVALID_MANIFEST', `manifest ${shape.description}`, [
      { field: 'manifest', description: shape.description },
    ]);
  }
  const bytes = manifestBytes(manifest);
  if (bytes > options.maxBytes) {
    throw invalidArgument(
      'MANIFEST_TOO_LARGE',
      `manifest is ${bytes} bytes as JSON, larger than the limit of ${options.maxBytes} bytes`,
      [{ field: 'manifest', description: `is ${bytes} bytes, at most ${options.maxBytes} allowed` }],
      { metadata: { bytes, limit: options.maxBytes } },
    );
  }
  const violations: FieldViolation[] = [];
  const bad = (field: string, description: string) => violations.push({ field: `manifest.${field}`, description });

  const name = manifest['name'];
  if (typeof name !== 'string') bad('name', 'is required: the package name, a string');
  else {
    const problem = packageNameProblem(name);
    if (problem) bad('name', problem);
  }

  const version = manifest['version'];
  if (typeof version !== 'string' || version === '') bad('version', 'is required: a semantic version such as 1.2.3');
  else if (semver.valid(version) !== version) bad('version', `"${version.slice(0, 80)}" is not a semantic version such as 1.2.3`);

  const nodeClass = manifest['nodeClass'];
  if (typeof nodeClass !== 'string' || nodeClass === '') bad('nodeClass', 'is required: the class of node the package is for, a string');
  else if (nodeClass.length > 255) bad('nodeClass', `is ${nodeClass.length} characters long, at most 255 allowed`);

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

  const artifact = manifest['artifact'];
  let descriptor: ArtifactDescriptor | undefined;
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
  if (manifest['proof'] === undefined) bad('proof', 'is required: the eddsa-jcs-2022 Data Integrity proof of the author');

  if (violations.length > 0) {
    throw invalidArgument('INVALID_MANIFEST', `manifest is invalid: ${violations.map((v) => `${v.field} ${v.description}`).join('; ')}`, violations);
  }

  let proofValue: string;
  try {
    proofValue = verifyDocument(manifest, { expectedController: author as string }).proof.proofValue;
  } catch (err) {
    if (!(err instanceof ProofError || err instanceof DidError)) throw err;
    throw invalidArgument(err.reason, `manifest.proof does not prove the author signed this manifest: ${err.message}`, [
      { field: 'manifest.proof', description: err.message },
    ]);
  }
  return {
    name: name as string,
    version: version as string,
    nodeClass: nodeClass as string,
    dependencies: deps,
    artifact: descriptor!,
    author: author as string,
    proofValue,
    document: manifest,
  };
}
