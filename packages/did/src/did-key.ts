import type { KeyObject } from 'node:crypto';
import { didError } from './did-error';
import { publicKeyFromRaw, rawPublicKey, type Ed25519KeyPair } from './ed25519-keys';
import { decodePublicKeyMultibase, encodePublicKeyMultibase } from './multikey';

/** The prefix every DID handled by this package starts with. */
export const DID_KEY_PREFIX = 'did:key:';

/**
 * Upper bound on the length of a DID or verification method id. An Ed25519
 * did:key is 56 characters; the bound stops untrusted input from making
 * base58 decoding (quadratic) expensive.
 */
const MAX_DID_LENGTH = 256;

/** A parsed Ed25519 `did:key`. */
export interface DidKey {
  /** The DID, e.g. `did:key:z6Mk...`. */
  readonly did: string;
  /** The multibase public key after `did:key:`, e.g. `z6Mk...`; also the verification method fragment. */
  readonly fingerprint: string;
  /** The 32 raw Ed25519 public key bytes. */
  readonly publicKey: Uint8Array;
}

/**
 * Parses a bare Ed25519 `did:key` (no fragment, query or path).
 *
 * @param did - e.g. `did:key:z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2`.
 * @returns The DID, its fingerprint and the raw public key.
 * @throws {@link DidError} `MALFORMED_DID` (not a string, not `did:key:`, a DID URL),
 *   `INVALID_MULTIBASE`, `UNSUPPORTED_MULTICODEC` (not 0xed01) or `INVALID_KEY_LENGTH`.
 */
export function parseDid(did: string): DidKey {
  if (typeof did !== 'string') {
    throw didError('MALFORMED_DID', `a DID must be a string, got ${typeof did}`);
  }
  if (did.length > MAX_DID_LENGTH) {
    throw didError('MALFORMED_DID', `DID is ${did.length} characters, at most ${MAX_DID_LENGTH} allowed`);
  }
  if (!did.startsWith(DID_KEY_PREFIX)) {
    throw didError('MALFORMED_DID', `only did:key DIDs are supported, got ${JSON.stringify(did.slice(0, 32))}`);
  }
  const fingerprint = did.slice(DID_KEY_PREFIX.length);
  if (fingerprint.length === 0) {
    throw didError('MALFORMED_DID', 'did:key has an empty method-specific id');
  }
  if (/[#?/:]/.test(fingerprint)) {
    throw didError(
      'MALFORMED_DID',
      `expected a bare did:key without fragment, query, path or version, got ${JSON.stringify(did)}`,
    );
  }
  const publicKey = decodePublicKeyMultibase(fingerprint, 'did:key public key');
  return { did, fingerprint, publicKey };
}

/**
 * Resolves an Ed25519 `did:key` to its public key, offline.
 *
 * @param did - A bare did:key.
 * @returns The public `KeyObject`.
 * @throws {@link DidError} as {@link parseDid}.
 */
export function resolveDid(did: string): KeyObject {
  return publicKeyFromRaw(parseDid(did).publicKey);
}

/**
 * Builds the `did:key` of an Ed25519 public key.
 *
 * @param publicKey - An Ed25519 `KeyObject` (public, or private whose public half
 *   is used) or the 32 raw public key bytes.
 * @throws {@link DidError} `UNSUPPORTED_KEY_TYPE` or `INVALID_KEY_LENGTH`.
 */
export function didFromPublicKey(publicKey: KeyObject | Uint8Array): string {
  const raw = publicKey instanceof Uint8Array ? publicKey : rawPublicKey(publicKey);
  if (raw.length !== 32) {
    throw didError('INVALID_KEY_LENGTH', `Ed25519 public key is ${raw.length} bytes, expected 32`);
  }
  return DID_KEY_PREFIX + encodePublicKeyMultibase(raw);
}

/**
 * Builds the `did:key` of a key pair (from its public key).
 *
 * @param keyPair - An Ed25519 key pair.
 */
export function didFromKeyPair(keyPair: Ed25519KeyPair): string {
  return didFromPublicKey(keyPair.publicKey);
}

/**
 * Returns the verification method id of a did:key: `did:key:z6Mk...#z6Mk...`.
 *
 * @param did - A bare did:key.
 * @throws {@link DidError} as {@link parseDid}.
 */
export function verificationMethodId(did: string): string {
  const { fingerprint } = parseDid(did);
  return `${did}#${fingerprint}`;
}

/**
 * Parses a did:key verification method id (`did:key:z6Mk...#z6Mk...`); the
 * fragment must repeat the fingerprint, as did:key defines.
 *
 * @param id - The verification method id.
 * @returns The parsed DID (its controller).
 * @throws {@link DidError} `MALFORMED_VERIFICATION_METHOD` (no fragment, or a
 *   fragment that is not the key's fingerprint), or any error of {@link parseDid}.
 */
export function parseVerificationMethod(id: string): DidKey {
  if (typeof id !== 'string') {
    throw didError('MALFORMED_VERIFICATION_METHOD', `a verification method must be a string, got ${typeof id}`);
  }
  const hash = id.indexOf('#');
  if (hash < 0) {
    throw didError(
      'MALFORMED_VERIFICATION_METHOD',
      `verification method ${JSON.stringify(id.slice(0, MAX_DID_LENGTH))} has no #fragment`,
    );
  }
  const parsed = parseDid(id.slice(0, hash));
  const fragment = id.slice(hash + 1);
  if (fragment !== parsed.fingerprint) {
    throw didError(
      'MALFORMED_VERIFICATION_METHOD',
      `verification method fragment ${JSON.stringify(fragment.slice(0, MAX_DID_LENGTH))} is not the key fingerprint ${parsed.fingerprint}`,
    );
  }
  return parsed;
}
