/**
 * Manifests: saved atomically with their contents, read, listed by tags,
 * class and time, and deleted together with the bytes nothing references
 * any more. Each records the DID that created it; only that DID or a content
 * operator deletes it (see `content-access.ts`). A client may choose the
 * manifest's id: creating the same id again as the same caller answers the
 * existing manifest (idempotent, whatever the request's contents), as
 * another caller ALREADY_EXISTS.
 */
import { createHash, randomUUID } from 'node:crypto';
import {
  alreadyExists,
  Code,
  DEFAULT_JSON_LIMITS,
  GriotError,
  invalidArgument,
  invalidField,
  notFound,
  optionalUuid,
  readKeysetCursor,
  requireJsonObject,
  requireSha256,
  requireText,
  requireUuid,
  resolvePageSize,
  type PageTokens,
} from '@griot/server-kit';
import { blobsRepository, type BlobKey, type BlobRecord } from '../repository/blobs-repository';
import {
  manifestsRepository,
  MANIFEST_KEYSET,
  type ManifestFilter,
  type ManifestRecord,
  type NewContent,
  type SerializerKind,
} from '../repository/manifests-repository';
import type { BlobStore } from '../storage/blob-store';
import { commitStaged, pinExisting } from './blob-commit';
import type { ContentAccess } from './content-access';
import type { ContentDeps } from './content-deps';
import { fromStorageError, withStorageErrors } from './storage-errors';

/** The resource type named in manifest errors. */
export const MANIFEST_RESOURCE = 'griot.content.v1.Manifest';

/** Page sizes of ListManifests. */
export const MANIFEST_PAGE = { defaultSize: 50, maxSize: 1000 };

/** Most contents of one manifest. */
const MAX_CONTENTS = 1000;

/** One content of a manifest to create. */
export interface ContentInput {
  /** Key, unique within the manifest. */
  contentKey: string;
  /** MIME type. */
  contentType: string;
  /** Encoding, or empty. */
  contentEncoding: string;
  /** Serializer name. */
  serializerName: string;
  /** Serializer configuration (a decoded Struct). */
  serializerConfig: unknown;
  /** 1 = value, 2 = stream; anything else is invalid. */
  serializerType: number;
  /** Storage name, or empty for the default. */
  storageName: string;
  /** The bytes' source. */
  source?: { $case: 'blobSha256'; blobSha256: string } | { $case: 'inlineValue'; inlineValue: Uint8Array };
}

/** A manifest to create. */
export interface ManifestInput {
  /** The client's UUID for it, or empty for one chosen by the store. */
  manifestId: string;
  /** Class UUID. */
  classId: string;
  /** Unpacker name. */
  unpackerName: string;
  /** Tags (a decoded Struct). */
  tags: unknown;
  /** Contents. */
  contents: ContentInput[];
}

/** The filters and page of a listing. */
export interface ListInput {
  /** Tags the manifests must contain. */
  tags: unknown;
  /** Class UUID, or empty. */
  classId: string;
  /** Created at or after. */
  createdAfter?: Date;
  /** Created before. */
  createdBefore?: Date;
  /** Page size; 0 = default. */
  pageSize: number;
  /** Token of the next page, or empty. */
  pageToken: string;
}

interface CheckedContent {
  input: ContentInput;
  store: BlobStore;
  serializerType: SerializerKind;
  serializerConfig: Record<string, unknown>;
  sha256: string;
  inline?: Uint8Array;
}

/** A created manifest, and whether it existed before (the same caller's manifest_id again). */
export interface CreatedManifest {
  /** The manifest. */
  manifest: ManifestRecord;
  /** True when the caller had created this manifest_id before: nothing was written. */
  alreadyExisted: boolean;
}

/** How many times a creation is tried when its id is taken and freed concurrently. */
const CREATE_ATTEMPTS = 3;

/** Manifest operations. */
export class Manifests {
  /**
   * @param deps - Database, storages, clock, limits.
   * @param access - Who may create and delete.
   * @param pageTokens - The deployment's page tokens.
   */
  constructor(
    private readonly deps: ContentDeps,
    private readonly access: ContentAccess,
    private readonly pageTokens: PageTokens,
  ) {}

  /**
   * Saves a manifest created by `caller` and its contents in one
   * transaction: every referenced blob is locked against deletion while the
   * records are written, so either all exist afterwards or none. When
   * `signal` is aborted by then (the caller's deadline passed, or it
   * cancelled), the transaction rolls back.
   * @throws PERMISSION_DENIED NOT_A_CONTENT_WRITER, INVALID_ARGUMENT,
   *   FAILED_PRECONDITION BLOB_NOT_FOUND, ALREADY_EXISTS MANIFEST_ALREADY_EXISTS
   *   (another caller's manifest_id).
   */
  async create(caller: string, input: ManifestInput, signal?: AbortSignal): Promise<CreatedManifest> {
    this.access.requireWriter(caller);
    const manifestId = optionalUuid('manifest_id', input.manifestId);
    const classId = requireUuid('class_id', input.classId);
    const unpackerName = requireText('unpacker_name', input.unpackerName);
    // Tags have their own, configurable size limit (CONTENT_MAX_TAGS_BYTES), checked here instead of the generic one.
    const tags = requireJsonObject('tags', input.tags, { ...DEFAULT_JSON_LIMITS, maxBytes: Infinity });
    const tagsBytes = Buffer.byteLength(JSON.stringify(tags));
    const maxTagsBytes = this.deps.limits.maxTagsBytes ?? Infinity;
    if (tagsBytes > maxTagsBytes) {
      const description = `are ${tagsBytes} bytes of JSON; CONTENT_MAX_TAGS_BYTES allows ${maxTagsBytes}`;
      throw new GriotError(Code.RESOURCE_EXHAUSTED, 'TAGS_TOO_LARGE', `tags: ${description}`, {
        metadata: { limit: 'CONTENT_MAX_TAGS_BYTES', max: maxTagsBytes, size: tagsBytes },
        fieldViolations: [{ field: 'tags', description }],
      });
    }
    if (input.contents.length > MAX_CONTENTS) throw invalidField('contents', 'TOO_MANY_CONTENTS', `has ${input.contents.length} contents; the limit is ${MAX_CONTENTS}`);
    const seen = new Set<string>();
    const checked = input.contents.map((c, i) => {
      const content = this.checkContent(c, i);
      if (seen.has(c.contentKey)) {
        throw invalidArgument('DUPLICATE_CONTENT_KEY', `contents[${i}].content_key: ${JSON.stringify(c.contentKey)} appears more than once; content keys must be distinct`, [
          { field: `contents[${i}].content_key`, description: `repeats ${JSON.stringify(c.contentKey)}` },
        ], { metadata: { contentKey: c.contentKey } });
      }
      seen.add(c.contentKey);
      return content;
    });
    // Inline values are written first: content-addressed and pinned, so a
    // failure below leaves only bytes the sweeper collects after the TTL.
    for (const content of checked) if (content.inline) await this.storeInline(content.store, content.sha256, content.inline);

    const keys = uniqueKeys(checked.map((c) => ({ storageName: c.store.name, sha256: c.sha256 })));
    for (let attempt = 1; ; attempt++) {
      const created = await this.insert(caller, { manifestId, classId, unpackerName, tags }, checked, keys, signal);
      if (created) return { manifest: created, alreadyExisted: false };
      // The id is taken (the insert waited for its creator to commit): answer it, or refuse another caller's.
      const existing = await manifestsRepository.find(this.deps.db, manifestId!);
      if (existing) {
        if (existing.creatorDid !== caller) {
          throw alreadyExists(
            MANIFEST_RESOURCE,
            manifestId!,
            `manifest_id: manifest ${manifestId} already exists and another caller created it; choose another id (or leave it empty)`,
            'MANIFEST_ALREADY_EXISTS',
          );
        }
        return { manifest: existing, alreadyExisted: true };
      }
      // Deleted between the insert and the read: try again, a few times.
      if (attempt >= CREATE_ATTEMPTS) {
        throw new GriotError(Code.ABORTED, 'CONCURRENT_CHANGE', `manifest ${manifestId} was created and deleted concurrently ${attempt} times; retry`);
      }
    }
  }

  private async insert(
    caller: string,
    head: { manifestId?: string; classId: string; unpackerName: string; tags: Record<string, unknown> },
    checked: CheckedContent[],
    keys: BlobKey[],
    signal?: AbortSignal,
  ): Promise<ManifestRecord | undefined> {
    const now = this.deps.clock();
    return this.deps.db.transaction(async (trx) => {
      if (head.manifestId) await manifestsRepository.lockNewId(trx, head.manifestId);
      const held = new Map((await blobsRepository.lockLive(trx, keys)).map((b) => [keyOf(b), b]));
      const contents: NewContent[] = checked.map((c, i) => {
        const blob = held.get(keyOf({ storageName: c.store.name, sha256: c.sha256 }));
        if (!blob) {
          throw new GriotError(Code.FAILED_PRECONDITION, 'BLOB_NOT_FOUND', `contents[${i}].blob_sha256: ${c.store.name} holds no blob ${c.sha256}; upload it first`, {
            metadata: { sha256: c.sha256, storageName: c.store.name, contentKey: c.input.contentKey },
            resource: { type: 'griot.content.v1.Blob', name: c.sha256 },
          });
        }
        return toNewContent(c, blob);
      });
      const manifest = await manifestsRepository.insert(trx, { id: head.manifestId, creatorDid: caller, classId: head.classId, unpackerName: head.unpackerName, tags: head.tags, createdAt: now, contents });
      // Taken: nothing was written (the blob locks end with the transaction).
      if (!manifest) return undefined;
      await blobsRepository.clearPins(trx, keys);
      // A caller that was already told DEADLINE_EXCEEDED or CANCELLED must not find the manifest saved.
      signal?.throwIfAborted();
      return manifest;
    });
  }

  /** A manifest with its contents. */
  async get(idValue: string): Promise<ManifestRecord> {
    const id = requireUuid('id', idValue);
    const manifest = await manifestsRepository.find(this.deps.db, id);
    if (!manifest) throw notFound(MANIFEST_RESOURCE, id);
    return manifest;
  }

  /** One page of manifests matching the filters, oldest first, and the token of the next page. */
  async list(input: ListInput): Promise<{ manifests: ManifestRecord[]; nextPageToken: string }> {
    const tags = requireJsonObject('tags', input.tags);
    const classId = optionalUuid('class_id', input.classId);
    if (input.createdAfter && Number.isNaN(input.createdAfter.getTime())) throw invalidField('created_after', 'INVALID_TIME', 'is not a valid time');
    if (input.createdBefore && Number.isNaN(input.createdBefore.getTime())) throw invalidField('created_before', 'INVALID_TIME', 'is not a valid time');
    const pageSize = resolvePageSize(input.pageSize, MANIFEST_PAGE);
    const filter: ManifestFilter = { tags, classId, createdAfter: input.createdAfter, createdBefore: input.createdBefore };
    const query = { tags, classId, after: input.createdAfter?.toISOString(), before: input.createdBefore?.toISOString() };
    const cursor = readKeysetCursor(this.pageTokens.decode<unknown>(input.pageToken, query), MANIFEST_KEYSET);
    const page = await manifestsRepository.list(this.deps.db, filter, cursor, pageSize, this.deps.limits.maxListPageBytes);
    return { manifests: page.manifests, nextPageToken: page.more && page.last ? this.pageTokens.encode(query, page.last) : '' };
  }

  /**
   * Deletes a manifest and its contents in one transaction, marking for
   * deletion the blobs it referenced that nothing references any more (and
   * whose pin has passed); then deletes their bytes. Returns the manifest as
   * it was and the digests deleted. Only its creator or a content operator
   * may delete it; an unknown id is NOT_FOUND to any authenticated caller.
   * @throws INVALID_ARGUMENT, NOT_FOUND, PERMISSION_DENIED NOT_MANIFEST_CREATOR.
   */
  async delete(caller: string, idValue: string): Promise<{ manifest: ManifestRecord; deletedSha256: string[] }> {
    const id = requireUuid('id', idValue);
    const now = this.deps.clock();
    const { manifest, marked } = await this.deps.db.transaction(async (trx) => {
      const found = await manifestsRepository.find(trx, id, { lock: true });
      if (!found) throw notFound(MANIFEST_RESOURCE, id);
      this.access.requireDeleter(caller, id, found.creatorDid);
      await manifestsRepository.remove(trx, id);
      const keys = uniqueKeys(found.contents.map((c) => ({ storageName: c.storageName, sha256: c.contentHash })));
      return { manifest: found, marked: await blobsRepository.markUnreferenced(trx, keys, now) };
    });
    await deleteMarked(this.deps, marked);
    return { manifest, deletedSha256: [...new Set(marked.map((k) => k.sha256))] };
  }

  private checkContent(c: ContentInput, i: number): CheckedContent {
    const at = `contents[${i}]`;
    requireText(`${at}.content_key`, c.contentKey);
    requireText(`${at}.content_type`, c.contentType);
    requireText(`${at}.serializer_name`, c.serializerName);
    const serializerType = c.serializerType === 1 ? 'value' : c.serializerType === 2 ? 'stream' : undefined;
    if (!serializerType) {
      throw invalidField(`${at}.serializer_type`, 'INVALID_SERIALIZER_TYPE', `must be SERIALIZER_TYPE_VALUE or SERIALIZER_TYPE_STREAM, not ${c.serializerType}`);
    }
    const serializerConfig = requireJsonObject(`${at}.serializer_config`, c.serializerConfig);
    let store: BlobStore;
    try {
      store = this.deps.stores.get(c.storageName);
    } catch (err) {
      throw fromStorageError(err, `${at}.storage_name`);
    }
    switch (c.source?.$case) {
      case 'blobSha256':
        return { input: c, store, serializerType, serializerConfig, sha256: requireSha256(`${at}.blob_sha256`, c.source.blobSha256) };
      case 'inlineValue': {
        const value = c.source.inlineValue;
        const limit = this.deps.limits.inlineValueMaxBytes;
        if (value.length > limit) {
          throw invalidField(`${at}.inline_value`, 'INLINE_VALUE_TOO_LARGE', `is ${value.length} bytes; inline values hold at most ${limit} bytes, upload larger ones`, {
            size: value.length,
            limit,
          });
        }
        return { input: c, store, serializerType, serializerConfig, sha256: createHash('sha256').update(value).digest('hex'), inline: value };
      }
      default:
        throw invalidArgument('MISSING_SOURCE', `${at}: set blob_sha256 or inline_value`, [{ field: `${at}.source`, description: 'one of blob_sha256 or inline_value is required' }]);
    }
  }

  private async storeInline(store: BlobStore, sha256: string, value: Uint8Array): Promise<void> {
    if (await pinExisting(this.deps, store, sha256)) return;
    const uploadId = randomUUID();
    try {
      await withStorageErrors(async () => {
        const writer = await store.openUpload(uploadId, 0);
        try {
          if (value.length > 0) await writer.write(value);
          await writer.close();
        } catch (err) {
          await writer.destroy().catch(() => undefined);
          throw err;
        }
      });
      await commitStaged(this.deps, store, uploadId, sha256, value.length);
    } catch (err) {
      await store.abortUpload(uploadId).catch(() => undefined);
      throw err;
    }
  }
}

/** Deletes the bytes of blobs marked for deletion, then their records; failures are left to the sweeper. */
export async function deleteMarked(deps: ContentDeps, marked: BlobKey[]): Promise<number> {
  let deleted = 0;
  for (const key of marked) {
    try {
      const store = deps.stores.get(key.storageName);
      await store.delete(key.sha256);
      await blobsRepository.removeDeleted(deps.db, key);
      deleted += 1;
    } catch (err) {
      deps.logger.warn({ err: fromStorageError(err), ...key }, 'could not delete a blob; the sweeper will retry');
    }
  }
  return deleted;
}

function toNewContent(c: CheckedContent, blob: BlobRecord): NewContent {
  return {
    contentKey: c.input.contentKey,
    contentType: c.input.contentType,
    contentEncoding: c.input.contentEncoding === '' ? null : c.input.contentEncoding,
    contentSize: blob.size,
    contentHash: blob.sha256,
    contentHashAlgorithm: 'sha256',
    serializerName: c.input.serializerName,
    serializerConfig: c.serializerConfig,
    serializerType: c.serializerType,
    storageName: blob.storageName,
    storageConfig: blob.storageConfig,
  };
}

function keyOf(k: BlobKey): string {
  return `${k.storageName}\u0000${k.sha256}`;
}

function uniqueKeys(keys: BlobKey[]): BlobKey[] {
  return [...new Map(keys.map((k) => [keyOf(k), k])).values()];
}
