/**
 * Where a package's artifact lives: in our content store
 * (`griot-content://sha256/<hex>`, the default) or at an outside URL.
 */
import { invalidField, requireNoNul, shorten } from '@griot/server-kit';

/** The scheme of artifacts kept in Griot's content store. */
export const CONTENT_STORE_SCHEME = 'griot-content:';

/** Where an artifact is, once its URL was checked. */
export interface ArtifactLocation {
  /** The URL to store (the default filled in). */
  url: string;
  /** True when the artifact is in our content store and must be checked there. */
  inContentStore: boolean;
}

const OUTSIDE_SCHEMES = new Set(['https:', 'http:', 'ipfs:']);

/** The content store URL of an artifact. */
export function contentStoreUrl(sha256: string): string {
  return `griot-content://sha256/${sha256}`;
}

/**
 * Checks an artifact URL against the package id.
 * @throws INVALID_ARGUMENT INVALID_ARTIFACT_URL on `artifact_url`.
 */
export function resolveArtifactUrl(url: string, packageId: string): ArtifactLocation {
  requireNoNul('artifact_url', url);
  if (url === '') return { url: contentStoreUrl(packageId), inContentStore: true };
  if (url.startsWith('griot-content:')) {
    const match = /^griot-content:\/\/sha256\/([0-9a-f]{64})$/.exec(url);
    if (!match) {
      throw invalidField('artifact_url', 'INVALID_ARTIFACT_URL', `"${shorten(url)}" is not griot-content://sha256/<64 lowercase hexadecimal characters>`);
    }
    if (match[1] !== packageId) {
      throw invalidField('artifact_url', 'ARTIFACT_URL_MISMATCH', `names blob ${match[1]} but the package id is ${packageId}`);
    }
    return { url, inContentStore: true };
  }
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw invalidField('artifact_url', 'INVALID_ARTIFACT_URL', `"${shorten(url)}" is not a URL`);
  }
  if (!OUTSIDE_SCHEMES.has(parsed.protocol)) {
    throw invalidField('artifact_url', 'INVALID_ARTIFACT_URL', `scheme "${parsed.protocol}" is not supported; use https://, http://, ipfs:// or griot-content://sha256/<hex> (or leave it empty for the content store)`);
  }
  return { url, inContentStore: false };
}
