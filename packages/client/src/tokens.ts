/**
 * Caller tokens: authors, nodes and operators are all did:key identities, and
 * every call they make carries a fresh EdDSA JWT for the service's audience
 * (`authorization: Bearer <jwt>`). A token is good for one call, so the
 * client mints one per call, retries included.
 */
import { Metadata } from '@grpc/grpc-js';
import { createCallerToken, didFromKeyPair, generateKeyPair, readKeyFile, writeKeyFile, type Ed25519KeyPair } from '@griot/did';

/** The audience the registry expects by default (its REGISTRY_TOKEN_AUDIENCE). */
export const REGISTRY_AUDIENCE = 'griot-registry';

/** The audience the content store expects by default (its CONTENT_TOKEN_AUDIENCE). */
export const CONTENT_AUDIENCE = 'griot-content';

/** An author's, node's or operator's identity: an Ed25519 key pair and its did:key. */
export interface Identity {
  /** The key pair. */
  readonly keyPair: Ed25519KeyPair;
  /** Its `did:key:z6Mk…`. */
  readonly did: string;
}

/** Makes a new identity (to keep, write it with {@link writeIdentity}). */
export function generateIdentity(): Identity {
  const keyPair = generateKeyPair();
  return { keyPair, did: didFromKeyPair(keyPair) };
}

/**
 * The identity of a key pair.
 *
 * @param keyPair - An Ed25519 key pair.
 */
export function identityFromKeyPair(keyPair: Ed25519KeyPair): Identity {
  return { keyPair, did: didFromKeyPair(keyPair) };
}

/**
 * Reads a key file (as `griot keygen` writes it).
 *
 * @param path - The key file.
 */
export async function readIdentity(path: string): Promise<Identity> {
  const keyPair = await readKeyFile(path);
  return { keyPair, did: keyPair.did };
}

/**
 * Writes an identity to a key file readable by its owner only.
 *
 * @param path - The key file to create.
 * @param identity - The identity.
 */
export async function writeIdentity(path: string, identity: Identity): Promise<void> {
  await writeKeyFile(path, identity.keyPair);
}

/**
 * Metadata carrying `authorization: Bearer <token>`.
 *
 * @param token - A caller token.
 */
export function bearerMetadata(token: string): Metadata {
  const md = new Metadata();
  md.set('authorization', `Bearer ${token}`);
  return md;
}

/**
 * Metadata that authenticates one call as the identity: a fresh caller token
 * for the audience.
 *
 * @param identity - The caller (an identity or a bare key pair).
 * @param audience - `griot-registry`, `griot-content`, or the service's configured audience.
 */
export function callerMetadata(identity: Identity | Ed25519KeyPair, audience: string): Metadata {
  const keyPair = 'keyPair' in identity ? identity.keyPair : identity;
  return bearerMetadata(createCallerToken({ keyPair, audience }));
}
