import { open, readFile } from 'node:fs/promises';
import { DidError, didError } from './did-error';
import { didFromPublicKey } from './did-key';
import { keyPairFromSeed, rawPublicKey, rawSeed, type Ed25519KeyPair } from './ed25519-keys';
import {
  decodePrivateKeyMultibase,
  decodePublicKeyMultibase,
  encodePrivateKeyMultibase,
  encodePublicKeyMultibase,
} from './multikey';

/** File mode of a key file: readable and writable by its owner only. */
export const KEY_FILE_MODE = 0o600;

/** The JSON content of a key file, as written by `griot keygen --out FILE`. */
export interface KeyFile {
  /** The key pair's did:key. */
  readonly did: string;
  /** Ed25519 public key, multicodec 0xed01, base58btc (`z6Mk...`). */
  readonly publicKeyMultibase: string;
  /** Ed25519 32-byte seed, multicodec 0x8026 (ed25519-priv), base58btc (`z3u2...`). */
  readonly privateKeyMultibase: string;
}

/** A key pair read back from a key file, with its DID. */
export interface KeyFileKeyPair extends Ed25519KeyPair {
  /** The key pair's did:key. */
  readonly did: string;
}

/** Options of {@link writeKeyFile}. */
export interface WriteKeyFileOptions {
  /** Replace an existing file. Default false: an existing key is never lost by accident. */
  readonly overwrite?: boolean;
}

/**
 * Serialises a key pair to the key file format.
 *
 * @param keyPair - An Ed25519 key pair.
 * @throws {@link DidError} `UNSUPPORTED_KEY_TYPE` for non-Ed25519 keys, or
 *   `KEY_FILE_MISMATCH` when the public key is not the private key's.
 */
export function encodeKeyFile(keyPair: Ed25519KeyPair): KeyFile {
  const seed = rawSeed(keyPair.privateKey);
  const publicKey = rawPublicKey(keyPair.publicKey);
  if (!Buffer.from(rawPublicKey(keyPair.privateKey)).equals(publicKey)) {
    throw didError('KEY_FILE_MISMATCH', 'the public key does not belong to the private key');
  }
  return {
    did: didFromPublicKey(publicKey),
    publicKeyMultibase: encodePublicKeyMultibase(publicKey),
    privateKeyMultibase: encodePrivateKeyMultibase(seed),
  };
}

function requireString(json: Record<string, unknown>, field: keyof KeyFile): string {
  const value = json[field];
  if (typeof value !== 'string' || value.length === 0) {
    throw didError('INVALID_KEY_FILE', `key file field "${field}" must be a non-empty string`);
  }
  return value;
}

/**
 * Checks and decodes parsed key file JSON. The private key is the source of
 * truth: the public key and the DID must be the ones derived from it.
 *
 * @param json - The parsed JSON of a key file.
 * @returns The key pair and its DID.
 * @throws {@link DidError} `INVALID_KEY_FILE` (not an object, missing field, or a
 *   key that does not decode — the decoding reason is in `cause`) or
 *   `KEY_FILE_MISMATCH` (DID or public key not derived from the private key).
 */
export function decodeKeyFile(json: unknown): KeyFileKeyPair {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw didError('INVALID_KEY_FILE', 'key file must be a JSON object');
  }
  const record = json as Record<string, unknown>;
  const did = requireString(record, 'did');
  const publicKeyMultibase = requireString(record, 'publicKeyMultibase');
  const privateKeyMultibase = requireString(record, 'privateKeyMultibase');

  let keyPair: Ed25519KeyPair;
  let storedPublicKey: Uint8Array;
  try {
    keyPair = keyPairFromSeed(decodePrivateKeyMultibase(privateKeyMultibase));
    storedPublicKey = decodePublicKeyMultibase(publicKeyMultibase);
  } catch (err: unknown) {
    if (!(err instanceof DidError)) throw err;
    throw didError('INVALID_KEY_FILE', `key file holds an invalid key: ${err.message}`, err);
  }

  const derivedPublicKey = rawPublicKey(keyPair.publicKey);
  if (!Buffer.from(storedPublicKey).equals(derivedPublicKey)) {
    throw didError('KEY_FILE_MISMATCH', 'key file publicKeyMultibase does not belong to its privateKeyMultibase');
  }
  const derivedDid = didFromPublicKey(derivedPublicKey);
  if (did !== derivedDid) {
    throw didError('KEY_FILE_MISMATCH', `key file did ${JSON.stringify(did)} is not the key's DID ${derivedDid}`);
  }
  return { did, ...keyPair };
}

/**
 * Writes a key pair to a JSON key file with mode 0600.
 *
 * @param path - Destination path.
 * @param keyPair - The Ed25519 key pair to store.
 * @param options - `overwrite` to replace an existing file.
 * @returns The key pair's DID.
 * @throws {@link DidError} `KEY_FILE_EXISTS` when the file exists and `overwrite`
 *   is not set; file system errors are passed through unchanged.
 */
export async function writeKeyFile(
  path: string,
  keyPair: Ed25519KeyPair,
  options: WriteKeyFileOptions = {},
): Promise<string> {
  const content = encodeKeyFile(keyPair);
  let handle;
  try {
    handle = await open(path, options.overwrite === true ? 'w' : 'wx', KEY_FILE_MODE);
  } catch (err: unknown) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') {
      throw didError('KEY_FILE_EXISTS', `key file ${path} already exists`, err);
    }
    throw err;
  }
  try {
    // The mode given to open() applies only to new files; an overwritten file keeps its old mode.
    await handle.chmod(KEY_FILE_MODE);
    await handle.writeFile(`${JSON.stringify(content, null, 2)}\n`, 'utf8');
  } finally {
    await handle.close();
  }
  return content.did;
}

/**
 * Reads a key file back and checks that its DID and public key match its private key.
 *
 * @param path - Path of a file written by {@link writeKeyFile}.
 * @returns The key pair and its DID.
 * @throws {@link DidError} `INVALID_KEY_FILE` (not JSON, missing field, bad key)
 *   or `KEY_FILE_MISMATCH`; file system errors (e.g. ENOENT) are passed through unchanged.
 */
export async function readKeyFile(path: string): Promise<KeyFileKeyPair> {
  const text = await readFile(path, 'utf8');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err: unknown) {
    throw didError('INVALID_KEY_FILE', `key file ${path} is not valid JSON`, err);
  }
  return decodeKeyFile(json);
}
