/**
 * A small least-recently-used cache (a Map keeps insertion order), bounded
 * by a number of entries and, when given a `sizeOf`, by a byte budget (the
 * sum of the entries' sizes; an entry larger than the whole budget is not
 * kept). Used for packages, which change only when yanked or unyanked (and
 * whose yank state is read afresh for every call).
 */
export class LruCache<K, V> {
  private readonly entries = new Map<K, { value: V; bytes: number }>();
  private readonly maxBytes: number;
  private readonly sizeOf: (value: V) => number;
  private totalBytes = 0;

  /**
   * @param capacity - Most entries kept; 0 keeps nothing.
   * @param options - `maxBytes` and `sizeOf`: the byte budget and how many
   *   bytes a value counts for.
   */
  constructor(
    private readonly capacity: number,
    options: { maxBytes?: number; sizeOf?: (value: V) => number } = {},
  ) {
    this.maxBytes = options.maxBytes ?? Infinity;
    this.sizeOf = options.sizeOf ?? (() => 0);
  }

  /** The value of `key`, marked as recently used. */
  get(key: K): V | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    this.entries.delete(key);
    this.entries.set(key, entry);
    return entry.value;
  }

  /** Keeps `value` under `key`, dropping the least recently used entries while over a limit. */
  set(key: K, value: V): void {
    if (this.capacity <= 0) return;
    this.delete(key);
    const bytes = this.sizeOf(value);
    if (bytes > this.maxBytes) return;
    this.entries.set(key, { value, bytes });
    this.totalBytes += bytes;
    while (this.entries.size > this.capacity || this.totalBytes > this.maxBytes) this.delete(this.entries.keys().next().value as K);
  }

  /** Forgets `key`. */
  delete(key: K): void {
    const entry = this.entries.get(key);
    if (entry === undefined) return;
    this.entries.delete(key);
    this.totalBytes -= entry.bytes;
  }

  /** The bytes the entries count for. */
  get bytes(): number {
    return this.totalBytes;
  }

  /** Number of entries. */
  get size(): number {
    return this.entries.size;
  }
}
