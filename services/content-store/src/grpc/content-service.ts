/**
 * The griot.content.v1.ContentService handlers: request shapes in, domain
 * calls, messages out. No SQL and no storage calls here.
 */
import { content, contentCodecs } from '@griot/proto';
import type { ServiceHandlers } from '@griot/server-kit';
import type { Manifests } from '../domain/manifests';
import type { Reads } from '../domain/reads';
import type { Uploads } from '../domain/uploads';
import type { ReadBuffers } from '../storage/blob-store';
import { toBlobMessage, toManifestMessage } from './messages';

const READ_BUFFERS: ReadBuffers = { allocate: contentCodecs.allocReadChunk };

/** The domain operations the handlers call. */
export interface ContentDomain {
  /** Uploads and blobs. */
  uploads: Uploads;
  /** Manifests. */
  manifests: Manifests;
  /** Reads. */
  reads: Reads;
}

/** The handlers of every ContentService method. */
export function contentServiceHandlers(domain: ContentDomain): ServiceHandlers<typeof content.ContentServiceService> {
  const { uploads, manifests, reads } = domain;
  return {
    async uploadBlob(requests, ctx) {
      const outcome = await uploads.upload(requests, ctx.signal);
      return {
        uploadId: outcome.uploadId,
        committedSize: outcome.committedSize,
        complete: outcome.complete,
        deduplicated: outcome.deduplicated,
        blob: outcome.blob && toBlobMessage(outcome.blob),
      };
    },

    async getUploadStatus(request) {
      const { upload, blob } = await uploads.status(request.uploadId);
      return {
        uploadId: upload.uploadId,
        committedSize: upload.committedSize,
        complete: upload.complete,
        blob: blob && toBlobMessage(blob),
        expireTime: upload.complete ? undefined : upload.expiresAt,
      };
    },

    async findMissingBlobs(request) {
      return { missingSha256: await uploads.findMissing(request.storageName, request.sha256) };
    },

    async getBlob(request) {
      return { blob: toBlobMessage(await uploads.getBlob(request.sha256, request.storageName)) };
    },

    async createManifest(request, ctx) {
      const manifest = await manifests.create({
        classId: request.classId,
        unpackerName: request.unpackerName,
        tags: request.tags,
        contents: request.contents.map((c) => ({
          contentKey: c.contentKey,
          contentType: c.contentType,
          contentEncoding: c.contentEncoding,
          serializerName: c.serializerName,
          serializerConfig: c.serializerConfig,
          serializerType: c.serializerType,
          storageName: c.storageName,
          source: c.source,
        })),
      }, ctx.signal);
      return { manifest: toManifestMessage(manifest), alreadyExisted: false };
    },

    async getManifest(request) {
      return { manifest: toManifestMessage(await manifests.get(request.id)) };
    },

    async listManifests(request) {
      const page = await manifests.list({
        tags: request.tags,
        classId: request.classId,
        createdAfter: request.createdAfter,
        createdBefore: request.createdBefore,
        pageSize: request.pageSize,
        pageToken: request.pageToken,
      });
      return { manifests: page.manifests.map(toManifestMessage), nextPageToken: page.nextPageToken };
    },

    async deleteManifest(request) {
      const { manifest, deletedSha256 } = await manifests.delete(request.id);
      return { manifest: toManifestMessage(manifest), deletedSha256 };
    },

    async readContent(request, ctx, send) {
      // Chunks are read with room for the response header, so the codec sends them without a copy.
      await reads.read({ target: request.target, offset: request.offset, limit: request.limit }, ctx.signal, (chunk) => send(chunk), READ_BUFFERS);
    },
  };
}
