/**
 * The signed package manifest: its required fields, their shapes, the size
 * limit, and the author's eddsa-jcs-2022 proof. Knows nothing of gRPC; throws
 * {@link GriotError}s.
 */
import { checkManifestFields, ProofError, verifyDocument, DidError, type ManifestArtifact } from '@griot/did';
import { invalidArgument, invalidField, type FieldViolation } from '@griot/server-kit';

export { packageNameProblem } from '@griot/did';

/** What a manifest's artifact says about the bytes. */
export type ArtifactDescriptor = ManifestArtifact;

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

/**
 * Checks a manifest's fields and size, then its proof against its author.
 * Every missing or invalid field is reported at once, one field violation each.
 * @throws INVALID_ARGUMENT MANIFEST_TOO_LARGE, INVALID_MANIFEST (field
 *   violations `manifest.<field>`), or the proof's reason (INVALID_SIGNATURE,
 *   UNEXPECTED_CONTROLLER, PROOF_MISSING, ...) on `manifest.proof`.
 */
export function validateManifest(manifest: Record<string, unknown> | undefined, options: { maxBytes: number }): ValidManifest {
  if (manifest === undefined) throw invalidField('manifest', 'MISSING_FIELD', 'is required: the signed package manifest');
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
  // The field rules are the CLI's too: griot publish checks them before it uploads anything.
  const checked = checkManifestFields(manifest);
  const violations: FieldViolation[] = checked.violations.map((v) => ({ field: `manifest.${v.field}`, description: v.description }));
  const bad = (field: string, description: string) => violations.push({ field: `manifest.${field}`, description });
  const { name, version, nodeClass, author } = manifest;
  const deps = checked.dependencies;
  const descriptor = checked.artifact;
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
