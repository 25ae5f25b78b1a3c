/**
 * The registry's own identity: the did:key whose tokens it sends to the
 * content store, where it keeps a manifest for every artifact it registers.
 * From REGISTRY_KEY_FILE when set; otherwise `registry-key.json` under
 * GRIOT_DATA_DIR, made (mode 0600) on the first start and read on every
 * later one, so the registry stays the creator of the manifests it made.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { didFromKeyPair, DidError, generateKeyPair, readKeyFile, writeKeyFile, type KeyFileKeyPair } from '@griot/did';
import { ConfigError } from '@griot/server-kit';

/** The default key file name under GRIOT_DATA_DIR. */
export const REGISTRY_KEY_FILE_NAME = 'registry-key.json';

/** Where the key came from. */
export type RegistryKeySource = 'file' | 'created' | 'memory';

/**
 * Reads (or makes) the registry's key pair.
 * @param keyFile - REGISTRY_KEY_FILE, or undefined.
 * @param dataDir - GRIOT_DATA_DIR; `:memory:` (tests) gives a key that lives as long as the process.
 * @throws ConfigError naming REGISTRY_KEY_FILE when the file is not a valid key file.
 */
export async function loadRegistryKey(keyFile: string | undefined, dataDir: string): Promise<{ keyPair: KeyFileKeyPair; source: RegistryKeySource; path?: string }> {
  if (keyFile === undefined && dataDir === ':memory:') {
    const keyPair = generateKeyPair();
    return { keyPair: { ...keyPair, did: didFromKeyPair(keyPair) }, source: 'memory' };
  }
  const path = keyFile ?? join(dataDir, REGISTRY_KEY_FILE_NAME);
  try {
    return { keyPair: await readKeyFile(path), source: 'file', path };
  } catch (err) {
    if (keyFile === undefined && (err as NodeJS.ErrnoException).code === 'ENOENT') {
      await mkdir(dataDir, { recursive: true });
      const keyPair = generateKeyPair();
      try {
        await writeKeyFile(path, keyPair);
      } catch (writeErr) {
        // Another replica sharing the data folder made it first: use theirs.
        if (writeErr instanceof DidError && writeErr.reason === 'KEY_FILE_EXISTS') return { keyPair: await readKeyFile(path), source: 'file', path };
        throw writeErr;
      }
      return { keyPair: { ...keyPair, did: didFromKeyPair(keyPair) }, source: 'created', path };
    }
    if (err instanceof DidError) throw new ConfigError(keyFile === undefined ? 'GRIOT_DATA_DIR' : 'REGISTRY_KEY_FILE', `${path} is not a usable key file: ${err.message}`);
    throw err;
  }
}
