/**
 * `griot publish DIR --key FILE`: pack, upload, sign, register; prints the package id.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { canonicalizeJson, checkManifestFields, signDocument, verifyDocument, type KeyFileKeyPair } from '@griot/did';
import { content, type registry } from '@griot/proto';
import { CONTENT_AUDIENCE, uploadFile } from '../blob-transfer';
import { CliError, ExitCode } from '../cli-error';
import type { Command, CommandContext } from '../command';
import { unary } from '../grpc-call';
import { callerMetadata, loadKey } from '../key-files';
import { packDirectory, type PackResult } from '../pack';
import { createProgress } from '../progress';

/** The class UUID of package manifests in the content store (kind griot.package). */
export const PACKAGE_CLASS_ID = '3c1f2b1e-5a0d-4e8e-9a57-6b2d1d0c4a11';

/** The media type of package artifacts. */
export const ARTIFACT_MEDIA_TYPE = 'application/gzip';

/** The unsigned manifest of a packed package. */
export function buildManifest(packed: PackResult, author: string): Record<string, unknown> {
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

/** Records a content-store manifest for the artifact, once, so the blob stays referenced. */
async function recordArtifactManifest(ctx: CommandContext, packed: PackResult, keyPair: KeyFileKeyPair): Promise<string> {
  const client = ctx.clients.content();
  const endpoint = ctx.clients.contentEndpoint;
  const tags = { kind: 'griot.package', name: packed.descriptor.name, version: packed.descriptor.version, packageId: packed.packageId };
  const existing = await unary<content.ListManifestsResponse>(endpoint, (md, o, cb) =>
    client.listManifests({ tags, classId: PACKAGE_CLASS_ID, createdAfter: undefined, createdBefore: undefined, pageSize: 1, pageToken: '' }, md, o, cb),
  );
  if (existing.manifests[0]) return existing.manifests[0].id;
  const created = await unary<content.CreateManifestResponse>(endpoint, (md, o, cb) =>
    client.createManifest(
      {
        classId: PACKAGE_CLASS_ID,
        manifestId: '',
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
      md,
      o,
      cb,
    ),
    callerMetadata(keyPair, CONTENT_AUDIENCE),
  );
  return created.manifest?.id ?? '';
}

/**
 * Checks a signed manifest with the registry's field rules and verifies its
 * proof, before anything is uploaded: a manifest the registry would refuse
 * leaves nothing behind.
 *
 * @throws {@link CliError} naming every field at fault, once each.
 */
export function checkSignedManifest(signed: Record<string, unknown>, label: string): void {
  const { violations } = checkManifestFields(signed);
  if (violations.length > 0) throw new CliError(`${label} cannot be published: ${violations.map((v) => `manifest.${v.field} ${v.description}`).join('; ')}`);
  try {
    verifyDocument(signed, { expectedController: String(signed['author']) });
  } catch (err: unknown) {
    throw new CliError(`${label}: the signed manifest does not verify: ${(err as Error).message}`, ExitCode.FAILURE, { cause: err });
  }
}

/** True when a registered manifest, proof aside, is the one about to be signed. */
export function sameManifest(registered: registry.Package, unsigned: Record<string, unknown>): boolean {
  const { proof: _proof, ...rest } = (registered.manifest ?? {}) as Record<string, unknown>;
  return canonicalizeJson(rest) === canonicalizeJson(unsigned);
}

async function registeredPackage(ctx: CommandContext, packageId: string): Promise<registry.Package | undefined> {
  const client = ctx.clients.registry();
  try {
    const res = await unary<registry.GetPackageResponse>(ctx.clients.registryEndpoint, (md, o, cb) => client.getPackage({ packageId }, md, o, cb));
    return res.package;
  } catch (err: unknown) {
    if (err instanceof CliError && err.exitCode === ExitCode.NOT_FOUND) return undefined;
    throw err;
  }
}

/** The publish command. */
export const publishCommand: Command = {
  name: 'publish',
  usage: 'publish DIR --key FILE [--dry-run]',
  summary: 'pack DIR, sign its manifest with the author key, check it as the registry would, upload it and register it (--dry-run: upload nothing)',
  options: { key: { type: 'string', short: 'k' }, 'dry-run': { type: 'boolean' } },
  args: { min: 1, max: 1 },
  async run(ctx) {
    const dir = resolve(ctx.args[0]!);
    const keyPair = await loadKey(ctx.required('key'), 'author');
    const work = await mkdtemp(join(tmpdir(), 'griot-publish-'));
    try {
      const packed = await packDirectory(dir, join(work, 'artifact.tgz'));
      const label = `${packed.descriptor.name}@${packed.descriptor.version}`;
      ctx.info(`packed ${label}: ${packed.entryCount} entries, ${packed.size} bytes, package id ${packed.packageId}`);
      const unsigned = buildManifest(packed, keyPair.did);
      const signed = signDocument(unsigned, { keyPair });
      checkSignedManifest(signed, label);
      if (ctx.options['dry-run'] === true) {
        ctx.result({ dryRun: true, packageId: packed.packageId, name: packed.descriptor.name, version: packed.descriptor.version, author: keyPair.did, size: packed.size, entries: packed.entryCount, manifest: signed }, () => [
          `would publish ${label} (dry run: nothing uploaded or registered)`,
          `  package id: ${packed.packageId}`,
          `  artifact:   ${packed.size} bytes, ${packed.entryCount} entries`,
          `  node class: ${packed.descriptor.nodeClass}`,
          `  signed by:  ${keyPair.did}`,
          `  registry:   ${ctx.clients.registryEndpoint.address}, content store: ${ctx.clients.contentEndpoint.address}`,
        ]);
        return;
      }
      const progress = createProgress(ctx.io.stderr, packed.size, 'uploading');
      const upload = await uploadFile(ctx.clients, {
        path: packed.file,
        digest: { sha256: packed.packageId, size: packed.size },
        onProgress: (n) => progress.update(n),
        metadata: callerMetadata(keyPair, CONTENT_AUDIENCE),
      });
      progress.finish();
      ctx.info(
        upload.deduplicated
          ? 'the content store already holds the artifact'
          : `uploaded ${upload.sentBytes} bytes${upload.resumedFrom > 0 ? ` (resumed at ${upload.resumedFrom})` : ''}`,
      );
      const manifestId = await recordArtifactManifest(ctx, packed, keyPair);
      const client = ctx.clients.registry();
      // Each signature has its own `created` time: republishing the same package must not sign it anew.
      const existing = await registeredPackage(ctx, packed.packageId);
      const res: Pick<registry.RegisterPackageResponse, 'alreadyRegistered'> =
        existing !== undefined && sameManifest(existing, unsigned)
          ? { alreadyRegistered: true }
          : await unary<registry.RegisterPackageResponse>(ctx.clients.registryEndpoint, (md, o, cb) =>
              client.registerPackage(
                { packageId: packed.packageId, manifest: signed, artifactUrl: `griot-content://sha256/${packed.packageId}` },
                md,
                o,
                cb,
              ),
            );
      ctx.result(
        { packageId: packed.packageId, name: packed.descriptor.name, version: packed.descriptor.version, author: keyPair.did, size: packed.size, alreadyRegistered: res.alreadyRegistered, contentManifestId: manifestId },
        () => {
          ctx.info(res.alreadyRegistered ? `${label} was already registered` : `registered ${label}, signed by ${keyPair.did}`);
          return packed.packageId;
        },
      );
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  },
};
