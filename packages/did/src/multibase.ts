import { base58 } from '@scure/base';
import { didError } from './did-error';

/** The multibase prefix of base58btc, the only base this package reads or writes. */
export const BASE58BTC_PREFIX = 'z';

/**
 * Encodes bytes as a base58btc multibase string (`z` + base58btc).
 *
 * @param bytes - Bytes to encode.
 * @returns The multibase string.
 */
export function encodeBase58btc(bytes: Uint8Array): string {
  return BASE58BTC_PREFIX + base58.encode(bytes);
}

/**
 * Decodes a base58btc multibase string.
 *
 * @param value - A string that must start with `z` followed by base58btc.
 * @param what - What the value is, for the error message (e.g. "did:key fingerprint").
 * @returns The decoded bytes.
 * @throws {@link DidError} `INVALID_MULTIBASE` when the prefix is not `z`, the
 *   body is empty or contains characters outside the base58btc alphabet.
 */
export function decodeBase58btc(value: string, what: string): Uint8Array {
  if (typeof value !== 'string' || !value.startsWith(BASE58BTC_PREFIX)) {
    const shown = typeof value === 'string' ? JSON.stringify(value.slice(0, 1)) : typeof value;
    throw didError(
      'INVALID_MULTIBASE',
      `${what} must be base58btc multibase (prefix "z"), got prefix ${shown}`,
    );
  }
  const body = value.slice(BASE58BTC_PREFIX.length);
  if (body.length === 0) {
    throw didError('INVALID_MULTIBASE', `${what} has an empty base58btc body`);
  }
  try {
    return base58.decode(body);
  } catch (err: unknown) {
    throw didError('INVALID_MULTIBASE', `${what} is not valid base58btc`, err);
  }
}
