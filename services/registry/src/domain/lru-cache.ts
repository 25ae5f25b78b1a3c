/**
 * A small least-recently-used cache (a Map keeps insertion order) whose
 * entries may expire a fixed time after they were set. Used for packages,
 * which change only when yanked or unyanked.
 */
export class LruCache<K, V> {
  private readonly entries = new Map<K, { value: V; expiresAt: number }>();
  private readonly ttlMs: number;
  private readonly now: () => number;

  /**
   * @param capacity - Most entries kept; 0 keeps nothing.
   * @param options - `ttlMs`: an entry is dropped this long after it was set
   *   (default: never); `now`: the clock, in milliseconds.
   */
  constructor(
    private readonly capacity: number,
    options: { ttlMs?: number; now?: () => number } = {},
  ) {
    this.ttlMs = options.ttlMs ?? Infinity;
    this.now = options.now ?? Date.now;
  }

  /** The value of `key` unless it expired, marked as recently used. */
  get(key: K): V | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    this.entries.delete(key);
    if (entry.expiresAt <= this.now()) return undefined;
    this.entries.set(key, entry);
    return entry.value;
  }

  /** Keeps `value` under `key`, dropping the least recently used entry when full. */
  set(key: K, value: V): void {
    if (this.capacity <= 0) return;
    this.entries.delete(key);
    this.entries.set(key, { value, expiresAt: this.now() + this.ttlMs });
    if (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value as K);
  }

  /** Forgets `key`. */
  delete(key: K): void {
    this.entries.delete(key);
  }

  /** Number of entries (expired ones included until they are read or pushed out). */
  get size(): number {
    return this.entries.size;
  }
}
