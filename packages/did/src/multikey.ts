import { didError } from './did-error';
import { decodeBase58btc, encodeBase58btc } from './multibase';

/** Length in bytes of a raw Ed25519 public key and of an Ed25519 seed (private key). */
export const ED25519_KEY_LENGTH = 32;

/** Multicodec code of `ed25519-pub` (varint bytes 0xed 0x01). */
export const ED25519_PUB_CODEC = 0xed;

/** Multicodec code of `ed25519-priv` (varint bytes 0x80 0x26). */
export const ED25519_PRIV_CODEC = 0x1300;

/** Names of multicodecs a caller is likely to send by mistake, for error messages. */
const KNOWN_CODECS: ReadonlyMap<number, string> = new Map([
  [0xe7, 'secp256k1-pub'],
  [0xec, 'x25519-pub'],
  [0xed, 'ed25519-pub'],
  [0x1200, 'p256-pub'],
  [0x1201, 'p384-pub'],
  [0x1202, 'p521-pub'],
  [0x1205, 'rsa-pub'],
  [0x1300, 'ed25519-priv'],
  [0x1306, 'p256-priv'],
]);

/**
 * Reads an unsigned LEB128 varint (the multicodec prefix encoding).
 * Returns undefined when the bytes end mid-varint or the value is absurdly long.
 */
function readVarint(bytes: Uint8Array): { value: number; length: number } | undefined {
  let value = 0;
  // Multicodec codes fit in 3 varint bytes; more would be a corrupt prefix.
  for (let i = 0; i < Math.min(bytes.length, 3); i++) {
    const byte = bytes[i] as number;
    value += (byte & 0x7f) * 2 ** (7 * i);
    if ((byte & 0x80) === 0) return { value, length: i + 1 };
  }
  return undefined;
}

function writeVarint(value: number): number[] {
  const out: number[] = [];
  let rest = value;
  while (rest >= 0x80) {
    out.push((rest & 0x7f) | 0x80);
    rest = Math.floor(rest / 0x80);
  }
  out.push(rest);
  return out;
}

function codecName(code: number): string {
  const hex = `0x${code.toString(16)}`;
  const name = KNOWN_CODECS.get(code);
  return name === undefined ? hex : `${hex} (${name})`;
}

/**
 * Prefixes key bytes with a multicodec code and encodes them as base58btc multibase.
 *
 * @param codec - Multicodec code, e.g. {@link ED25519_PUB_CODEC}.
 * @param key - Raw key bytes.
 * @returns The multibase string (`z...`).
 */
export function encodeMultikey(codec: number, key: Uint8Array): string {
  const prefix = writeVarint(codec);
  const bytes = new Uint8Array(prefix.length + key.length);
  bytes.set(prefix, 0);
  bytes.set(key, prefix.length);
  return encodeBase58btc(bytes);
}

/**
 * Decodes a multibase multikey and checks its multicodec and key length.
 *
 * @param value - Multibase string (`z...`).
 * @param expectedCodec - The only multicodec accepted.
 * @param what - What the value is, for error messages.
 * @returns The 32 raw key bytes.
 * @throws {@link DidError} `INVALID_MULTIBASE`, `UNSUPPORTED_MULTICODEC` or `INVALID_KEY_LENGTH`.
 */
export function decodeMultikey(value: string, expectedCodec: number, what: string): Uint8Array {
  const bytes = decodeBase58btc(value, what);
  const prefix = readVarint(bytes);
  if (prefix === undefined) {
    throw didError('UNSUPPORTED_MULTICODEC', `${what} has no valid multicodec prefix`);
  }
  if (prefix.value !== expectedCodec) {
    throw didError(
      'UNSUPPORTED_MULTICODEC',
      `${what} uses multicodec ${codecName(prefix.value)}, expected ${codecName(expectedCodec)}`,
    );
  }
  const key = bytes.subarray(prefix.length);
  if (key.length !== ED25519_KEY_LENGTH) {
    throw didError(
      'INVALID_KEY_LENGTH',
      `${what} holds a ${key.length}-byte key, expected ${ED25519_KEY_LENGTH} bytes`,
    );
  }
  return key;
}

/**
 * Encodes a raw Ed25519 public key as `publicKeyMultibase` (`z6Mk...`).
 *
 * @param publicKey - 32 raw public key bytes.
 */
export function encodePublicKeyMultibase(publicKey: Uint8Array): string {
  return encodeMultikey(ED25519_PUB_CODEC, publicKey);
}

/**
 * Decodes a `publicKeyMultibase` (`z6Mk...`) to the raw Ed25519 public key.
 *
 * @param value - The multibase string.
 * @param what - What the value is, for error messages.
 * @throws {@link DidError} `INVALID_MULTIBASE`, `UNSUPPORTED_MULTICODEC` or `INVALID_KEY_LENGTH`.
 */
export function decodePublicKeyMultibase(value: string, what = 'publicKeyMultibase'): Uint8Array {
  return decodeMultikey(value, ED25519_PUB_CODEC, what);
}

/**
 * Encodes a 32-byte Ed25519 seed as `privateKeyMultibase` (`z3u2...`).
 *
 * @param seed - 32-byte Ed25519 private key seed.
 */
export function encodePrivateKeyMultibase(seed: Uint8Array): string {
  return encodeMultikey(ED25519_PRIV_CODEC, seed);
}

/**
 * Decodes a `privateKeyMultibase` (`z3u2...`) to the 32-byte Ed25519 seed.
 *
 * @param value - The multibase string.
 * @param what - What the value is, for error messages.
 * @throws {@link DidError} `INVALID_MULTIBASE`, `UNSUPPORTED_MULTICODEC` or `INVALID_KEY_LENGTH`.
 */
export function decodePrivateKeyMultibase(value: string, what = 'privateKeyMultibase'): Uint8Array {
  return decodeMultikey(value, ED25519_PRIV_CODEC, what);
}
