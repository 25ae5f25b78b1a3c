import { sign, verify } from 'node:crypto';
import { chmod, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import vector from './test-vectors/eddsa-jcs-2022.json';
import { didFromKeyPair } from './did-key';
import { generateKeyPair, rawSeed } from './ed25519-keys';
import { decodeKeyFile, encodeKeyFile, readKeyFile, writeKeyFile } from './key-file';
import { encodeMultikey, ED25519_PUB_CODEC } from './multikey';

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'griot-did-'));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('writeKeyFile / readKeyFile', () => {
  it('round-trips a key pair that still signs for the same DID', async () => {
    const pair = generateKeyPair();
    const path = join(dir, 'node.key.json');
    const did = await writeKeyFile(path, pair);
    expect(did).toBe(didFromKeyPair(pair));

    const read = await readKeyFile(path);
    expect(read.did).toBe(did);
    expect(Buffer.from(rawSeed(read.privateKey))).toEqual(Buffer.from(rawSeed(pair.privateKey)));
    const signature = sign(null, Buffer.from('hello'), read.privateKey);
    expect(verify(null, Buffer.from('hello'), pair.publicKey, signature)).toBe(true);
  });

  it('writes the documented JSON format with mode 0600', async () => {
    const path = join(dir, 'key.json');
    await writeKeyFile(path, generateKeyPair());
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    const json = JSON.parse(await readFile(path, 'utf8')) as Record<string, string>;
    expect(Object.keys(json).sort()).toEqual(['did', 'privateKeyMultibase', 'publicKeyMultibase']);
    expect(json['did']).toBe(`did:key:${json['publicKeyMultibase']}`);
    expect(json['publicKeyMultibase']).toMatch(/^z6Mk/);
    expect(json['privateKeyMultibase']).toMatch(/^z3u2/);
  });

  it('refuses to replace an existing file unless asked, then resets its mode to 0600', async () => {
    const path = join(dir, 'key.json');
    await writeFile(path, 'precious', { mode: 0o644 });
    await chmod(path, 0o644);
    await expect(writeKeyFile(path, generateKeyPair())).rejects.toMatchObject({ reason: 'KEY_FILE_EXISTS' });
    expect(await readFile(path, 'utf8')).toBe('precious');

    const pair = generateKeyPair();
    await writeKeyFile(path, pair, { overwrite: true });
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect((await readKeyFile(path)).did).toBe(didFromKeyPair(pair));
  });

  it('passes file system errors through', async () => {
    await expect(readKeyFile(join(dir, 'missing.json'))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('rejects a file that is not JSON', async () => {
    const path = join(dir, 'key.json');
    await writeFile(path, '{ not json');
    await expect(readKeyFile(path)).rejects.toMatchObject({ name: 'DidError', reason: 'INVALID_KEY_FILE' });
  });
});

describe('decodeKeyFile', () => {
  const vectorFile = {
    did: vector.did,
    publicKeyMultibase: vector.keyPair.publicKeyMultibase,
    privateKeyMultibase: vector.keyPair.secretKeyMultibase,
  };

  it('accepts the spec vector key pair in key file form', () => {
    expect(decodeKeyFile(vectorFile).did).toBe(vector.did);
  });

  it('is the inverse of encodeKeyFile', () => {
    const pair = generateKeyPair();
    const file = encodeKeyFile(pair);
    expect(encodeKeyFile(decodeKeyFile(file))).toEqual(file);
  });

  it('refuses to encode a key pair whose halves do not belong together', () => {
    const pair = { publicKey: generateKeyPair().publicKey, privateKey: generateKeyPair().privateKey };
    expect(() => encodeKeyFile(pair)).toThrow(expect.objectContaining({ reason: 'KEY_FILE_MISMATCH' }));
  });

  const other = encodeKeyFile(generateKeyPair());
  it.each([
    ['an array', [], 'INVALID_KEY_FILE'],
    ['null', null, 'INVALID_KEY_FILE'],
    ['a missing did', { ...vectorFile, did: undefined }, 'INVALID_KEY_FILE'],
    ['a numeric publicKeyMultibase', { ...vectorFile, publicKeyMultibase: 5 }, 'INVALID_KEY_FILE'],
    ['a missing privateKeyMultibase', { ...vectorFile, privateKeyMultibase: '' }, 'INVALID_KEY_FILE'],
    ['a public key where the private key belongs', { ...vectorFile, privateKeyMultibase: vectorFile.publicKeyMultibase }, 'INVALID_KEY_FILE'],
    ['a private key that is not base58btc', { ...vectorFile, privateKeyMultibase: 'z0000' }, 'INVALID_KEY_FILE'],
    ['a 31-byte public key', { ...vectorFile, publicKeyMultibase: encodeMultikey(ED25519_PUB_CODEC, new Uint8Array(31)) }, 'INVALID_KEY_FILE'],
    ['the DID of another key', { ...vectorFile, did: other.did }, 'KEY_FILE_MISMATCH'],
    ['the public key of another key', { ...vectorFile, publicKeyMultibase: other.publicKeyMultibase }, 'KEY_FILE_MISMATCH'],
    ['the private key of another key', { ...vectorFile, privateKeyMultibase: other.privateKeyMultibase }, 'KEY_FILE_MISMATCH'],
  ])('rejects %s', (_case, json, reason) => {
    expect(() => decodeKeyFile(json)).toThrow(expect.objectContaining({ reason }));
  });

  it('keeps the decoding reason as the cause of INVALID_KEY_FILE', () => {
    try {
      decodeKeyFile({ ...vectorFile, privateKeyMultibase: vectorFile.publicKeyMultibase });
      throw new Error('expected a rejection');
    } catch (err: unknown) {
      expect((err as Error).cause).toMatchObject({ reason: 'UNSUPPORTED_MULTICODEC' });
    }
  });
});
