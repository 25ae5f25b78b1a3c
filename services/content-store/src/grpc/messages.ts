/**
 * Conversions from domain records to the generated griot.content.v1 messages.
 */
import { content } from '@griot/proto';
import type { BlobRecord } from '../repository/blobs-repository';
import type { ContentRecord, ManifestRecord } from '../repository/manifests-repository';

/** A blob record as a Blob message. */
export function toBlobMessage(blob: BlobRecord): content.Blob {
  return { sha256: blob.sha256, size: blob.size, storageName: blob.storageName, storageConfig: blob.storageConfig, createdAt: blob.createdAt };
}

/** A content record as a Content message. */
export function toContentMessage(c: ContentRecord): content.Content {
  return {
    id: c.id,
    createdAt: c.createdAt,
    manifestId: c.manifestId,
    contentKey: c.contentKey,
    contentType: c.contentType,
    contentEncoding: c.contentEncoding ?? '',
    contentSize: c.contentSize,
    contentHash: c.contentHash,
    contentHashAlgorithm: c.contentHashAlgorithm,
    serializerName: c.serializerName,
    serializerConfig: c.serializerConfig,
    serializerType: c.serializerType === 'value' ? content.SerializerType.SERIALIZER_TYPE_VALUE : content.SerializerType.SERIALIZER_TYPE_STREAM,
    storageName: c.storageName,
    storageConfig: c.storageConfig,
  };
}

/** A manifest record as a Manifest message. */
export function toManifestMessage(m: ManifestRecord): content.Manifest {
  return { id: m.id, createdAt: m.createdAt, classId: m.classId, unpackerName: m.unpackerName, tags: m.tags, contents: m.contents.map(toContentMessage), creatorDid: m.creatorDid ?? '' };
}
