/**
 * The griot.content.v1.ContentService handlers: the caller authenticated,
 * request shapes in, domain calls, messages out. No SQL and no storage calls
 * here. UploadBlob, CreateManifest and DeleteManifest need a caller token
 * (`aud` CONTENT_TOKEN_AUDIENCE); reads need one only with
 * CONTENT_REQUIRE_READ_AUTH=true.
 */
import type { Metadata } from '@grpc/grpc-js';
import { content } from '@griot/proto';
import { contentCodecs, requestDeframer } from '@griot/transport';
import type { CallerAuthenticator, ServiceHandlers } from '@griot/server-kit';
import type { ContentAccess } from '../domain/content-access';
import type { Manifests } from '../domain/manifests';
import type { Reads } from '../domain/reads';
import type { Uploads } from '../domain/uploads';
import { DIRECT_IO_ALIGNMENT, receiveBuffers } from '../storage/aligned-slabs';
import type { ReadBuffers } from '../storage/blob-store';
import { toBlobMessage, toManifestMessage } from './messages';

const READ_BUFFERS: ReadBuffers = { allocate: contentCodecs.allocReadChunk };

/**
 * Where the transport assembles UploadBlob requests: in the receive buffers,
 * each chunk's bytes on a page boundary, so that the file storage writes
 * them direct from there (one copy of each byte, from the HTTP/2 reads).
 */
export const uploadRequestDeframer = requestDeframer({
  path: content.ContentServiceService.uploadBlob.path,
  dataField: 3,
  headroom: DIRECT_IO_ALIGNMENT,
  allocate: (size) => receiveBuffers.take(size),
});

/** The domain operations the handlers call. */
export interface ContentDomain {
  /** Uploads and blobs. */
  uploads: Uploads;
  /** Manifests. */
  manifests: Manifests;
  /** Reads. */
  reads: Reads;
  /** Who may write and delete. */
  access: ContentAccess;
}

/** How callers are authenticated. */
export interface ContentAuth {
  /** Verifies caller tokens; answers the caller's DID. */
  authenticate: CallerAuthenticator;
  /** CONTENT_REQUIRE_READ_AUTH: reads need a valid token too. */
  requireReadAuth: boolean;
}

/** The handlers of every ContentService method. */
export function contentServiceHandlers(domain: ContentDomain, auth: ContentAuth): ServiceHandlers<typeof content.ContentServiceService> {
  const { uploads, manifests, reads, access } = domain;
  const { authenticate } = auth;
  const reader = async (metadata: Metadata): Promise<void> => {
    if (auth.requireReadAuth) await authenticate(metadata);
  };
  return {
    async uploadBlob(requests, ctx) {
      // Before a byte of the stream is read.
      access.requireWriter(await authenticate(ctx.metadata));
      // The peer address names the connection (its client port).
      const outcome = await uploads.upload(requests, ctx.signal, ctx.peer);
      return {
        uploadId: outcome.uploadId,
        committedSize: outcome.committedSize,
        complete: outcome.complete,
        deduplicated: outcome.deduplicated,
        blob: outcome.blob && toBlobMessage(outcome.blob),
      };
    },

    async getUploadStatus(request, ctx) {
      await reader(ctx.metadata);
      const { upload, blob } = await uploads.status(request.uploadId);
      return {
        uploadId: upload.uploadId,
        committedSize: upload.committedSize,
        complete: upload.complete,
        blob: blob && toBlobMessage(blob),
        expireTime: upload.complete ? undefined : upload.expiresAt,
      };
    },

    async findMissingBlobs(request, ctx) {
      await reader(ctx.metadata);
      return { missingSha256: await uploads.findMissing(request.storageName, request.sha256) };
    },

    async getBlob(request, ctx) {
      await reader(ctx.metadata);
      return { blob: toBlobMessage(await uploads.getBlob(request.sha256, request.storageName)) };
    },

    async createManifest(request, ctx) {
      const caller = await authenticate(ctx.metadata);
      const { manifest, alreadyExisted } = await manifests.create(caller, {
        manifestId: request.manifestId,
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
      return { manifest: toManifestMessage(manifest), alreadyExisted };
    },

    async getManifest(request, ctx) {
      await reader(ctx.metadata);
      return { manifest: toManifestMessage(await manifests.get(request.id)) };
    },

    async listManifests(request, ctx) {
      await reader(ctx.metadata);
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

    async deleteManifest(request, ctx) {
      const { manifest, deletedSha256 } = await manifests.delete(await authenticate(ctx.metadata), request.id);
      return { manifest: toManifestMessage(manifest), deletedSha256 };
    },

    async readContent(request, ctx, send) {
      await reader(ctx.metadata);
      // Chunks are read with room for the response header, so the codec sends them without a copy.
      await reads.read({ target: request.target, offset: request.offset, limit: request.limit }, ctx.signal, (chunk) => send(chunk), READ_BUFFERS);
    },
  };
}
