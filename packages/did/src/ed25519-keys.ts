import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { didError } from './did-error';
import { ED25519_KEY_LENGTH } from './multikey';

/** An Ed25519 key pair as node:crypto `KeyObject`s. */
export interface Ed25519KeyPair {
  /** The public key (`type === 'public'`, `asymmetricKeyType === 'ed25519'`). */
  readonly publicKey: KeyObject;
  /** The private key (`type === 'private'`, `asymmetricKeyType === 'ed25519'`). */
  readonly privateKey: KeyObject;
}

/**
 * DER prefix of a PKCS#8 Ed25519 private key (RFC 8410); the 32-byte seed follows.
 * Used instead of JWK because a JWK import needs `x`, which is what we derive.
 */
const PKCS8_ED25519_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

/**
 * Generates a fresh Ed25519 key pair with node:crypto.
 */
export function generateKeyPair(): Ed25519KeyPair {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  return { publicKey, privateKey };
}

/**
 * Checks that a `KeyObject` is an Ed25519 key of the given kind.
 *
 * @param key - The key to check.
 * @param kind - `'public'` or `'private'`.
 * @throws {@link DidError} `UNSUPPORTED_KEY_TYPE` otherwise.
 */
export function assertEd25519Key(key: KeyObject, kind: 'public' | 'private'): void {
  if (key?.type !== kind || key.asymmetricKeyType !== 'ed25519') {
    const got = key?.type === undefined ? typeof key : `${key.type} ${key.asymmetricKeyType ?? 'secret'} key`;
    throw didError('UNSUPPORTED_KEY_TYPE', `expected an Ed25519 ${kind} key, got ${got}`);
  }
}

function assertKeyLength(bytes: Uint8Array, what: string): void {
  if (bytes.length !== ED25519_KEY_LENGTH) {
    throw didError(
      'INVALID_KEY_LENGTH',
      `${what} is ${bytes.length} bytes, expected ${ED25519_KEY_LENGTH}`,
    );
  }
}

/**
 * Builds a public `KeyObject` from 32 raw Ed25519 public key bytes.
 *
 * @param raw - Raw public key.
 * @throws {@link DidError} `INVALID_KEY_LENGTH` when not 32 bytes.
 */
export function publicKeyFromRaw(raw: Uint8Array): KeyObject {
  assertKeyLength(raw, 'Ed25519 public key');
  return createPublicKey({
    key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(raw).toString('base64url') },
    format: 'jwk',
  });
}

/**
 * Returns the 32 raw bytes of an Ed25519 public key. A private key is
 * accepted too: its public half is derived.
 *
 * @param key - Ed25519 public or private `KeyObject`.
 * @throws {@link DidError} `UNSUPPORTED_KEY_TYPE` for a non-Ed25519 key.
 */
export function rawPublicKey(key: KeyObject): Uint8Array {
  const publicKey = key?.type === 'private' ? createPublicKey(key) : key;
  assertEd25519Key(publicKey, 'public');
  const { x } = publicKey.export({ format: 'jwk' });
  return new Uint8Array(Buffer.from(x as string, 'base64url'));
}

/**
 * Builds an Ed25519 key pair from a 32-byte seed (the RFC 8032 private key).
 *
 * @param seed - 32-byte seed.
 * @throws {@link DidError} `INVALID_KEY_LENGTH` when not 32 bytes.
 */
export function keyPairFromSeed(seed: Uint8Array): Ed25519KeyPair {
  assertKeyLength(seed, 'Ed25519 seed');
  const privateKey = createPrivateKey({
    key: Buffer.concat([PKCS8_ED25519_PREFIX, seed]),
    format: 'der',
    type: 'pkcs8',
  });
  return { publicKey: createPublicKey(privateKey), privateKey };
}

/**
 * Returns the 32-byte seed of an Ed25519 private key.
 *
 * @param privateKey - Ed25519 private `KeyObject`.
 * @throws {@link DidError} `UNSUPPORTED_KEY_TYPE` for anything else.
 */
export function rawSeed(privateKey: KeyObject): Uint8Array {
  assertEd25519Key(privateKey, 'private');
  const { d } = privateKey.export({ format: 'jwk' });
  return new Uint8Array(Buffer.from(d as string, 'base64url'));
}
