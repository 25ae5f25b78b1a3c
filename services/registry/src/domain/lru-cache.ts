/**
 * A small least-recently-used cache (a Map keeps insertion order). Used for
 * packages, which never change once registered.
 */
export class LruCache<K, V> {
  private readonly entries = new Map<K, V>();

  /** @param capacity - Most entries kept; 0 keeps nothing. */
  constructor(private readonly capacity: number) {}

  /** The value of `key`, marked as recently used. */
  get(key: K): V | undefined {
    const value = this.entries.get(key);
    if (value !== undefined) {
      this.entries.delete(key);
      this.entries.set(key, value);
    }
    return value;
  }

  /** Keeps `value` under `key`, dropping the least recently used entry when full. */
  set(key: K, value: V): void {
    if (this.capacity <= 0) return;
    this.entries.delete(key);
    this.entries.set(key, value);
    if (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value as K);
  }

  /** Number of entries. */
  get size(): number {
    return this.entries.size;
  }
}
