/**
 * Reading key files for the CLI, with one-line errors, and caller tokens:
 * `--key FILE` (or GRIOT_KEY) is the caller's identity for every
 * authenticated command, `--node FILE` the node's.
 */
import { readKeyFile, type KeyFileKeyPair } from '@griot/did';
import { CliError, ExitCode, usageError } from './cli-error';
import type { CommandContext } from './command';

/**
 * Reads a key file written by `griot keygen`.
 *
 * @param path - The key file.
 * @param role - `author`, `node` or `caller`, for messages.
 * @throws {@link CliError} when missing or invalid.
 */
export async function loadKey(path: string, role: string): Promise<KeyFileKeyPair> {
  try {
    return await readKeyFile(path);
  } catch (err: unknown) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new CliError(`${role} key file ${path} not found (make one with: griot keygen --out ${path})`, ExitCode.NOT_FOUND, { cause: err });
    throw new CliError(`cannot use ${role} key file ${path}: ${(err as Error).message}`, ExitCode.FAILURE, { cause: err });
  }
}

/** Where a caller's key came from. */
export type KeySource = '--key' | '--node' | 'GRIOT_KEY';

/**
 * The key file a command acts with: `--key FILE`, else (when the command
 * accepts it) `--node FILE`, else the GRIOT_KEY environment variable.
 *
 * @param ctx - The command context.
 * @param options - `node`: whether `--node` is accepted too; `why`: what the key is for, for the usage error.
 * @returns The path and where it came from, or undefined when none is given.
 * @throws {@link CliError} (usage) when both `--key` and `--node` are given.
 */
export function callerKeyPath(ctx: CommandContext, options: { node?: boolean } = {}): { path: string; source: KeySource } | undefined {
  const key = ctx.string('key');
  const node = options.node === true ? ctx.string('node') : undefined;
  if (key !== undefined && key !== '' && node !== undefined && node !== '') throw usageError('give --key FILE or --node FILE, not both');
  if (key !== undefined && key !== '') return { path: key, source: '--key' };
  if (node !== undefined && node !== '') return { path: node, source: '--node' };
  const env = ctx.io.env['GRIOT_KEY'];
  return env !== undefined && env !== '' ? { path: env, source: 'GRIOT_KEY' } : undefined;
}

/**
 * Loads the caller's key pair (see {@link callerKeyPath}).
 *
 * @param ctx - The command context.
 * @param why - Who may make the call, for the usage error when no key is given,
 *   such as `only an owner of the name may yank`.
 * @param options - Whether `--node FILE` is accepted as the caller too.
 * @throws {@link CliError} (usage) when no key is given.
 */
export async function loadCallerKey(ctx: CommandContext, why: string, options: { node?: boolean } = {}): Promise<KeyFileKeyPair> {
  const found = callerKeyPath(ctx, options);
  if (!found) throw usageError(`${options.node === true ? '--node FILE or --key FILE' : '--key FILE'} (or GRIOT_KEY) is required: ${why}`);
  return loadKey(found.path, found.source === '--node' ? 'node' : 'caller');
}

/** Metadata that authenticates one call as a key's did:key: a fresh caller token for the audience. */
export { callerMetadata } from '@griot/client';
