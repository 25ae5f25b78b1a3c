/**
 * `griot sign DIR --key FILE`: packs DIR and prints its package id and signed
 * manifest as a RegisterPackage request body, without contacting any service,
 * for registering with other tools (grpcurl). `-o FILE` also writes the
 * artifact to upload.
 */
import { copyFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { signDocument } from '@griot/did';
import type { Command } from '../command';
import { loadKey } from '../key-files';
import { buildManifest, packDirectory } from '@griot/client';

/** The sign command. */
export const signCommand: Command = {
  name: 'sign',
  usage: 'sign DIR --key FILE [-o ARTIFACT]',
  summary: 'pack DIR and print its RegisterPackage request (package id and signed manifest) as JSON',
  options: { key: { type: 'string', short: 'k' }, out: { type: 'string', short: 'o' } },
  args: { min: 1, max: 1 },
  async run(ctx) {
    const keyPair = await loadKey(ctx.required('key'), 'author');
    const work = await mkdtemp(join(tmpdir(), 'griot-sign-'));
    try {
      const packed = await packDirectory(resolve(ctx.args[0]!), join(work, 'artifact.tgz'));
      const out = ctx.string('out');
      if (out) await copyFile(packed.file, resolve(out));
      const request = {
        package_id: packed.packageId,
        manifest: signDocument(buildManifest(packed, keyPair.did), { keyPair }),
        artifact_url: `griot-content://sha256/${packed.packageId}`,
      };
      // Always JSON: it is a request body for another tool.
      ctx.out(JSON.stringify(request, null, ctx.json ? 2 : undefined));
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  },
};
