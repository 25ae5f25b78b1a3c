/**
 * `griot publish DIR --key FILE`: pack, sign, check, upload, register (the
 * client's publish); prints the package id.
 */
import { resolve } from 'node:path';
import { publish } from '@griot/client';
import type { Command } from '../command';
import { toCliError } from '../grpc-call';
import { loadKey } from '../key-files';
import { createProgress, type Progress } from '../progress';

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
    const dryRun = ctx.options['dry-run'] === true;
    let progress: Progress | undefined;
    const outcome = await publish(ctx.clients.griot(), {
      dir,
      author: keyPair,
      dryRun,
      onPacked: (packed) => {
        ctx.info(`packed ${packed.descriptor.name}@${packed.descriptor.version}: ${packed.entryCount} entries, ${packed.size} bytes, package id ${packed.packageId}`);
        if (!dryRun) progress = createProgress(ctx.io.stderr, packed.size, 'uploading');
      },
      onProgress: (n) => progress?.update(n),
    }).catch((err: unknown) => {
      throw toCliError(err);
    });
    const { packed, packageId, upload } = outcome;
    const label = `${outcome.name}@${outcome.version}`;
    if (outcome.dryRun) {
      ctx.result({ dryRun: true, packageId, name: outcome.name, version: outcome.version, author: keyPair.did, size: outcome.size, entries: packed.entryCount, manifest: outcome.manifest }, () => [
        `would publish ${label} (dry run: nothing uploaded or registered)`,
        `  package id: ${packageId}`,
        `  artifact:   ${outcome.size} bytes, ${packed.entryCount} entries`,
        `  node class: ${packed.descriptor.nodeClass}`,
        `  signed by:  ${keyPair.did}`,
        `  registry:   ${ctx.clients.registryEndpoint.address}, content store: ${ctx.clients.contentEndpoint.address}`,
      ]);
      return;
    }
    progress?.finish();
    if (upload) {
      ctx.info(upload.deduplicated ? 'the content store already holds the artifact' : `uploaded ${upload.sentBytes} bytes${upload.resumedFrom > 0 ? ` (resumed at ${upload.resumedFrom})` : ''}`);
    }
    ctx.result(
      { packageId, name: outcome.name, version: outcome.version, author: keyPair.did, size: outcome.size, alreadyRegistered: outcome.alreadyRegistered, contentManifestId: outcome.contentManifestId },
      () => {
        ctx.info(outcome.alreadyRegistered ? `${label} was already registered` : `registered ${label}, signed by ${keyPair.did}`);
        return packageId;
      },
    );
  },
};
