/**
 * The JSON API object resource (`storage#object`) for a stored object.
 */
import type { StoredObject } from './object-table';

/**
 * Renders an object as the JSON API does; numbers that GCS sends as strings
 * (size, generation) are strings here too.
 *
 * @param object - The stored object.
 * @param baseUrl - The server's origin, for `selfLink` and `mediaLink`.
 */
export function objectResource(object: StoredObject, baseUrl: string): Record<string, unknown> {
  const path = `b/${encodeURIComponent(object.bucket)}/o/${encodeURIComponent(object.name)}`;
  const time = object.timeCreated.toISOString();
  return {
    kind: 'storage#object',
    id: `${object.bucket}/${object.name}/${object.generation}`,
    selfLink: `${baseUrl}/storage/v1/${path}`,
    mediaLink: `${baseUrl}/download/storage/v1/${path}?generation=${object.generation}&alt=media`,
    name: object.name,
    bucket: object.bucket,
    generation: String(object.generation),
    metageneration: '1',
    contentType: object.contentType,
    storageClass: 'STANDARD',
    size: String(object.data.length),
    crc32c: object.crc32c,
    etag: etag(object),
    timeCreated: time,
    updated: time,
    timeStorageClassUpdated: time,
    ...(object.md5Hash !== undefined && { md5Hash: object.md5Hash }),
    ...(object.componentCount !== undefined && { componentCount: object.componentCount }),
    ...(object.metadata !== undefined && { metadata: object.metadata }),
  };
}

/**
 * The object's ETag (changes with every generation).
 *
 * @param object - The stored object.
 */
export function etag(object: StoredObject): string {
  return Buffer.from(String(object.generation)).toString('base64');
}
