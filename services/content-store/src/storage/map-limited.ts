/**
 * Bounded parallelism for batches of remote calls (deleting or composing
 * many part objects) so that a large upload does not open hundreds of
 * requests at once.
 */

/**
 * Runs `fn` on every item, at most `limit` at a time; rejects with the first
 * failure once the running calls have settled.
 *
 * @param items - The inputs.
 * @param limit - Most calls in flight.
 * @param fn - The call.
 * @returns The results, in input order.
 */
export async function mapLimited<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index]!, index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
