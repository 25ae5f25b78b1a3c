/**
 * Publishing a package: pack its folder reproducibly (or take a packed
 * tarball), sign its manifest with the author's key, check it with the
 * registry's own rules, upload the artifact, record it in the content store
 * and register it.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { canonicalizeJson, checkManifestFields, signDocument, verifyDocument, type Ed25519KeyPair } from '@griot/did';
import { content, type registry } from '@griot/proto';
import { status } from '@grpc/grpc-js';
import type { ContentClient } from './content-client';
import { GriotClientError, PackageError } from './errors';
import { packDirectory, type PackResult } from './pack';
import { parseDescriptor } from './package-descriptor';
import type { RegistryClient } from './registry-client';
import { identityFromKeyPair, type Identity } from './tokens';
import { hashFile, type UploadOutcome } from './upload';

/** The class UUID of package manifests in the content store (kind griot.package). */
export const PACKAGE_CLASS_ID = '3c1f2b1e-5a0d-4e8e-9a57-6b2d1d0c4a11';

/** The media type of package artifacts. */
export const ARTIFACT_MEDIA_TYPE = 'application/gzip';

/** A packed package: its descriptor and artifact. */
export type PackedPackage = Omit<PackResult, 'entryCount'> & { readonly entryCount?: number };

/**
 * The unsigned manifest of a packed package.
 *
 * @param packed - The descriptor and the artifact's id and size.
 * @param author - The author's did:key.
 */
export function buildManifest(packed: PackedPackage, author: string): Record<string, unknown> {
  const d = packed.descriptor;
  return {
    name: d.name,
    version: d.version,
    nodeClass: d.nodeClass,
    dependencies: { ...d.dependencies },
    artifact: { digest: `sha256:${packed.packageId}`, size: packed.size, mediaType: ARTIFACT_MEDIA_TYPE },
    author,
  };
}

/**
 * Checks a signed manifest with the registry's field rules and verifies its
 * proof, before anything is uploaded: a manifest the registry would refuse
 * leaves nothing behind.
 *
 * @param signed - The signed manifest.
 * @param label - `name@version`, for the message.
 * @throws {@link PackageError} naming every field at fault, once each.
 */
export function checkSignedManifest(signed: Record<string, unknown>, label: string): void {
  const { violations } = checkManifestFields(signed);
  if (violations.length > 0) {
    throw new PackageError(
      `${label} cannot be published: ${violations.map((v) => `manifest.${v.field} ${v.description}`).join('; ')}`,
      violations.map((v) => ({ field: `manifest.${v.field}`, description: v.description })),
    );
  }
  try {
    verifyDocument(signed, { expectedController: String(signed['author']) });
  } catch (err: unknown) {
    throw new PackageError(`${label}: the signed manifest does not verify: ${(err as Error).message}`, [], { cause: err });
  }
}

/** True when a registered manifest, proof aside, is the one about to be signed. */
export function sameManifest(registered: registry.Package, unsigned: Record<string, unknown>): boolean {
  const { proof: _proof, ...rest } = (registered.manifest ?? {}) as Record<string, unknown>;
  return canonicalizeJson(rest) === canonicalizeJson(unsigned);
}

/** What to publish and as whom. */
export interface PublishOptions {
  /** The package folder (with its griot.json) to pack; or give `tarball`. */
  readonly dir?: string;
  /** An already packed `.tar.gz`; its descriptor then comes from `name`, `version`, `nodeClass` and `dependencies`. */
  readonly tarball?: string;
  /** The package name, with `tarball`. */
  readonly name?: string;
  /** The version, with `tarball`. */
  readonly version?: string;
  /** The node class, with `tarball`. */
  readonly nodeClass?: string;
  /** Dependencies (name → version range), with `tarball`. */
  readonly dependencies?: Readonly<Record<string, string>>;
  /** The author, who signs the manifest and makes every call. */
  readonly author: Identity | Ed25519KeyPair;
  /** Pack, sign and check only: nothing is uploaded or registered. */
  readonly dryRun?: boolean;
  /** Called once the package is packed, before anything is sent. */
  readonly onPacked?: (packed: PackedPackage) => void;
  /** Called with the artifact's bytes uploaded so far. */
  readonly onProgress?: (done: number) => void;
}

/** What {@link publish} did. */
export interface PublishOutcome {
  /** The package id: the SHA-256 of the artifact. */
  readonly packageId: string;
  /** The name. */
  readonly name: string;
  /** The version. */
  readonly version: string;
  /** The author's did:key. */
  readonly author: string;
  /** The artifact's size in bytes. */
  readonly size: number;
  /** The packed package. */
  readonly packed: PackedPackage;
  /** The signed manifest. */
  readonly manifest: Record<string, unknown>;
  /** True for a dry run: nothing was sent. */
  readonly dryRun: boolean;
  /** The upload, unless a dry run. */
  readonly upload?: UploadOutcome;
  /** The id of the content-store manifest that keeps the artifact, unless a dry run. */
  readonly contentManifestId?: string;
  /** True when the same manifest was registered already (nothing was signed anew). */
  readonly alreadyRegistered: boolean;
}

/** Records a content-store manifest for the artifact, once, so that the blob stays referenced. */
async function recordArtifactManifest(contentClient: ContentClient, packed: PackedPackage, author: Identity): Promise<string> {
  const tags = { kind: 'griot.package', name: packed.descriptor.name, version: packed.descriptor.version, packageId: packed.packageId };
  const existing = await contentClient.listManifests({ tags, classId: PACKAGE_CLASS_ID, pageSize: 1 }, { identity: author });
  if (existing.manifests[0]) return existing.manifests[0].id;
  const created = await contentClient.createManifest(
    {
      classId: PACKAGE_CLASS_ID,
      unpackerName: 'griot.package@v1',
      tags,
      contents: [
        {
          contentKey: 'artifact',
          contentType: ARTIFACT_MEDIA_TYPE,
          contentEncoding: '',
          serializerName: 'griot.bytes@v1',
          serializerConfig: undefined,
          serializerType: content.SerializerType.SERIALIZER_TYPE_STREAM,
          storageName: '',
          source: { $case: 'blobSha256', blobSha256: packed.packageId },
        },
      ],
    },
    { identity: author },
  );
  return created.manifest?.id ?? '';
}

async function registeredPackage(registryClient: RegistryClient, packageId: string, author: Identity): Promise<registry.Package | undefined> {
  try {
    return (await registryClient.getPackage({ packageId }, { identity: author })).package;
  } catch (err: unknown) {
    if (err instanceof GriotClientError && err.code === status.NOT_FOUND) return undefined;
    throw err;
  }
}

async function packed(options: PublishOptions, work: string): Promise<PackedPackage> {
  if (options.dir !== undefined) return packDirectory(resolve(options.dir), join(work, 'artifact.tgz'));
  if (options.tarball === undefined) throw new PackageError('give the package folder (dir) or its packed tarball (tarball) to publish');
  const descriptor = parseDescriptor({ name: options.name, version: options.version, nodeClass: options.nodeClass, dependencies: options.dependencies ?? {} }, 'the publish options');
  const digest = await hashFile(options.tarball);
  return { descriptor, packageId: digest.sha256, size: digest.size, file: resolve(options.tarball) };
}

/**
 * Publishes a package: packs it, signs its manifest as the author, checks
 * the manifest as the registry would (a refused one leaves nothing behind),
 * uploads the artifact (resuming an interrupted upload), records it in the
 * content store and registers it. Publishing the same package again
 * registers nothing new.
 *
 * @param clients - The registry and content store clients.
 * @param options - The package and its author.
 * @throws {@link PackageError} for a package folder or manifest at fault; {@link GriotClientError} for a refused or failed call.
 */
export async function publish(clients: { registry: RegistryClient; content: ContentClient }, options: PublishOptions): Promise<PublishOutcome> {
  const author = 'keyPair' in options.author ? options.author : identityFromKeyPair(options.author);
  const work = await mkdtemp(join(tmpdir(), 'griot-publish-'));
  try {
    const pkg = await packed(options, work);
    options.onPacked?.(pkg);
    const label = `${pkg.descriptor.name}@${pkg.descriptor.version}`;
    const unsigned = buildManifest(pkg, author.did);
    const signed = signDocument(unsigned, { keyPair: author.keyPair });
    checkSignedManifest(signed, label);
    const base = { packageId: pkg.packageId, name: pkg.descriptor.name, version: pkg.descriptor.version, author: author.did, size: pkg.size, packed: pkg, manifest: signed };
    if (options.dryRun === true) return { ...base, dryRun: true, alreadyRegistered: false };
    const upload = await clients.content.uploadFile(pkg.file, { sha256: pkg.packageId, size: pkg.size, identity: author, onProgress: options.onProgress });
    const contentManifestId = await recordArtifactManifest(clients.content, pkg, author);
    // Each signature has its own `created` time: republishing the same package must not sign it anew.
    const existing = await registeredPackage(clients.registry, pkg.packageId, author);
    const alreadyRegistered =
      existing !== undefined && sameManifest(existing, unsigned)
        ? true
        : (await clients.registry.registerPackage({ packageId: pkg.packageId, manifest: signed, artifactUrl: `griot-content://sha256/${pkg.packageId}` }, { identity: author })).alreadyRegistered;
    return { ...base, dryRun: false, upload, contentManifestId, alreadyRegistered };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
