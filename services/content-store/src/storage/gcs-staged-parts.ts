/**
 * What is staged for an upload in GCS: its part objects, of which the run of
 * contiguous parts from offset 0 is the durable staged prefix.
 */
import type { Bucket } from '@google-cloud/storage';
import type { GcsObjectNames } from './gcs-object-names';
import { stagedChain, type PartSpan } from './staged-chain';

/** One finalized part object. */
export interface StagedPart extends PartSpan {
  /** Object name. */
  name: string;
}

/** The objects of one upload. */
export interface StagedParts {
  /** Contiguous parts from offset 0, in order: the durable staged bytes. */
  chain: StagedPart[];
  /** End of the chain: how many bytes are durably staged. */
  durableSize: number;
  /** Names of every other object under the upload's prefix (parts past a gap, compose intermediates). */
  strays: string[];
}

/**
 * Lists the objects of an upload and sorts them into the durable chain and
 * the rest.
 *
 * @param bucket - The bucket.
 * @param names - Object naming of the storage.
 * @param uploadId - A normalized upload id.
 */
export async function listStagedParts(bucket: Bucket, names: GcsObjectNames, uploadId: string): Promise<StagedParts> {
  const [files] = await bucket.getFiles({ prefix: names.uploadPrefix(uploadId), autoPaginate: true });
  const parts: StagedPart[] = [];
  const others: string[] = [];
  for (const file of files) {
    const start = names.partStart(uploadId, file.name);
    if (start === undefined) others.push(file.name);
    else parts.push({ name: file.name, start, size: Number(file.metadata.size ?? 0) });
  }
  const { chain, durableSize, strays } = stagedChain(parts);
  return { chain, durableSize, strays: [...strays.map((p) => p.name), ...others] };
}
