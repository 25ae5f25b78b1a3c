/**
 * The durable prefix of an upload staged as parts (GCS part objects, database
 * part rows): the run of contiguous, non-empty parts from offset 0. Anything
 * else is a leftover of an interrupted attempt.
 */

/** Where a part sits in its upload. */
export interface PartSpan {
  /** First byte within the upload. */
  start: number;
  /** Size in bytes. */
  size: number;
}

/** Parts sorted into the durable chain and the rest. */
export interface StagedChain<T extends PartSpan> {
  /** Contiguous parts from offset 0, in order. */
  chain: T[];
  /** End of the chain: how many bytes are durably staged. */
  durableSize: number;
  /** Parts that are not in the chain. */
  strays: T[];
}

/**
 * Sorts parts into the chain from offset 0 and the strays.
 *
 * @param parts - Every part of one upload, in any order.
 */
export function stagedChain<T extends PartSpan>(parts: readonly T[]): StagedChain<T> {
  const sorted = [...parts].sort((a, b) => a.start - b.start);
  const chain: T[] = [];
  const strays: T[] = [];
  let durableSize = 0;
  for (const part of sorted) {
    if (part.start === durableSize && part.size > 0) {
      chain.push(part);
      durableSize += part.size;
    } else {
      strays.push(part);
    }
  }
  return { chain, durableSize, strays };
}

/**
 * The chain part that `offset` falls strictly inside, if any: such an offset
 * is not a part boundary.
 *
 * @param chain - The durable chain.
 * @param offset - An offset within the upload.
 */
export function partStraddling<T extends PartSpan>(chain: readonly T[], offset: number): T | undefined {
  return chain.find((p) => p.start < offset && offset < p.start + p.size);
}
