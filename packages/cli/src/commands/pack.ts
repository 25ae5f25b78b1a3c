/**
 * `griot pack DIR [-o FILE]`: the reproducible .tar.gz of a package folder and its package id.
 */
import { resolve } from 'node:path';
import type { Command } from '../command';
import { packDirectory, readDescriptor } from '@griot/client';

/** The file name `pack` writes by default: `name-version.tgz`, scope folded in. */
export function defaultArchiveName(name: string, version: string): string {
  return `${name.replace(/^@/, '').replace(/\//g, '-')}-${version}.tgz`;
}

/** The pack command. */
export const packCommand: Command = {
  name: 'pack',
  usage: 'pack DIR [-o FILE]',
  summary: 'write the reproducible .tar.gz of DIR and print its package id',
  options: { output: { type: 'string', short: 'o' } },
  args: { min: 1, max: 1 },
  async run(ctx) {
    const dir = resolve(ctx.args[0]!);
    const descriptor = await readDescriptor(dir);
    const file = resolve(ctx.string('output') ?? defaultArchiveName(descriptor.name, descriptor.version));
    const result = await packDirectory(dir, file);
    ctx.result(
      { packageId: result.packageId, file: result.file, size: result.size, name: descriptor.name, version: descriptor.version, entries: result.entryCount },
      () => {
        ctx.info(`packed ${descriptor.name}@${descriptor.version}: ${result.entryCount} entries, ${result.size} bytes → ${file}`);
        return result.packageId;
      },
    );
  },
};
