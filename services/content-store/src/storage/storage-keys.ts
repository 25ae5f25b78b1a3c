/**
 * Checks on the two keys every backend builds names from: blob digests and
 * upload ids. Both end up in paths, object names and SQL, so they are checked
 * before use rather than escaped.
 */
import { InvalidSha256Error, InvalidUploadIdError } from './errors';

const SHA256_HEX = /^[0-9a-f]{64}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * Returns the digest if it is 64 lowercase hex characters.
 *
 * @param sha256 - A SHA-256 digest.
 * @throws InvalidSha256Error otherwise.
 */
export function checkSha256(sha256: string): string {
  if (!SHA256_HEX.test(sha256)) throw new InvalidSha256Error(sha256);
  return sha256;
}

/**
 * Returns the upload id in canonical (lowercase) UUID form, as PostgreSQL
 * prints it, so that every backend names an upload the same way.
 *
 * @param uploadId - An upload id.
 * @throws InvalidUploadIdError when it is not a UUID.
 */
export function normalizeUploadId(uploadId: string): string {
  const lower = uploadId.toLowerCase();
  if (!UUID.test(lower)) throw new InvalidUploadIdError(uploadId);
  return lower;
}
