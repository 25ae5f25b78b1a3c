/**
 * Reading key files for the CLI, with one-line errors, and node tokens.
 */
import { createNodeToken, readKeyFile, type KeyFileKeyPair } from '@griot/did';
import type { Metadata } from '@grpc/grpc-js';
import { CliError, ExitCode } from './cli-error';
import { bearer } from './grpc-call';

/**
 * Reads a key file written by `griot keygen`.
 *
 * @param path - The key file.
 * @param role - `author` or `node`, for messages.
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

/**
 * Metadata that authenticates a call as a node: a fresh EdDSA JWT.
 *
 * @param keyPair - The node's key pair.
 * @param audience - The token's audience.
 */
export function nodeMetadata(keyPair: KeyFileKeyPair, audience: string): Metadata {
  return bearer(createNodeToken({ keyPair, audience }));
}
