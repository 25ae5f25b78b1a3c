/**
 * `griot keygen --out FILE`: writes an Ed25519 key file (mode 0600) and prints its did:key.
 */
import { generateKeyPair, writeKeyFile } from '@griot/did';
import { CliError } from '../cli-error';
import type { Command } from '../command';

/** The keygen command. */
export const keygenCommand: Command = {
  name: 'keygen',
  usage: 'keygen --out FILE [--force]',
  summary: 'write a new Ed25519 key file (mode 0600) and print its did:key',
  options: { out: { type: 'string', short: 'o' }, force: { type: 'boolean' } },
  args: { min: 0, max: 0 },
  async run(ctx) {
    const file = ctx.required('out');
    let did: string;
    try {
      did = await writeKeyFile(file, generateKeyPair(), { overwrite: ctx.options['force'] === true });
    } catch (err: unknown) {
      if ((err as { reason?: string }).reason === 'KEY_FILE_EXISTS') {
        throw new CliError(`${file} already exists; use --force to replace it (the old key is lost)`, 1, { cause: err });
      }
      throw err;
    }
    ctx.result({ did, file }, () => did);
  },
};
