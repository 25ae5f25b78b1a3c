/**
 * Committing staged bytes as a blob and recording it, safely against a
 * concurrent deletion of the same digest.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { Code, GriotError } from '@griot/server-kit';
import { blobsRepository, type BlobRecord } from '../repository/blobs-repository';
import type { BlobStore } from '../storage/blob-store';
import { pinDeadline, type ContentDeps } from './content-deps';
import { withStorageErrors } from './storage-errors';

/** How long a commit waits for a deletion of the same digest to finish before finishing it itself. */
const DELETION_WAIT_MS = 5000;

/**
 * Extends the pin of the live record of a digest, if any. A blob whose pin is
 * in the future is never deleted, so the caller can rely on it from now on.
 */
export async function pinExisting(deps: ContentDeps, store: BlobStore, sha256: string): Promise<BlobRecord | undefined> {
  const [pinned] = await blobsRepository.extendPins(deps.db, store.name, [sha256], pinDeadline(deps));
  return pinned;
}

/**
 * Moves an upload's staged bytes to their content address and records the
 * blob, pinned for the upload TTL so that it survives until a manifest
 * references it. When a record of the same digest is being deleted, waits
 * for that deletion first: committing under it would let the deleter remove
 * the new bytes.
 */
export async function commitStaged(deps: ContentDeps, store: BlobStore, uploadId: string, sha256: string, size: number): Promise<BlobRecord> {
  const started = Date.now();
  for (;;) {
    const existing = await pinExisting(deps, store, sha256);
    if (existing) {
      // Pinned: the bytes stay; the staged copy is dropped by the create-only commit.
      await withStorageErrors(() => store.commitUpload(uploadId, sha256, size));
      return existing;
    }
    if (await blobsRepository.isDeleting(deps.db, store.name, sha256)) {
      if (Date.now() - started < DELETION_WAIT_MS) {
        await sleep(25);
        continue;
      }
      // The deleter seems gone (a crash); finish its work, then commit.
      await withStorageErrors(() => store.delete(sha256));
      await blobsRepository.removeDeleted(deps.db, { storageName: store.name, sha256 });
      continue;
    }
    const storageConfig = await withStorageErrors(() => store.commitUpload(uploadId, sha256, size));
    const now = deps.clock();
    const blob = await blobsRepository.upsertCommitted(deps.db, { storageName: store.name, sha256, size, storageConfig, now, pinnedUntil: pinDeadline(deps, now) });
    if (blob) return blob;
    throw new GriotError(Code.ABORTED, 'CONCURRENT_DELETION', `blob ${sha256} was being deleted while this upload committed it; upload it again`, {
      metadata: { sha256 },
    });
  }
}
