import { LruCache } from './lru-cache';

describe('LruCache', () => {
  it('keeps at most the given number of entries, dropping the least recently used', () => {
    const cache = new LruCache<string, number>(2);
    cache.set('a', 1);
    cache.set('b', 2);
    expect(cache.get('a')).toBe(1);
    cache.set('c', 3);
    expect([cache.get('a'), cache.get('b'), cache.get('c')]).toEqual([1, undefined, 3]);
  });

  it('keeps entries within a byte budget, dropping the least recently used, and never one larger than the budget', () => {
    const cache = new LruCache<string, string>(10_000, { maxBytes: 100, sizeOf: (v) => v.length });
    for (let i = 0; i < 10; i++) cache.set(`k${i}`, 'x'.repeat(30));
    // 3 × 30 bytes fit in 100, a fourth does not.
    expect(cache.size).toBe(3);
    expect(cache.bytes).toBe(90);
    expect([cache.get('k6'), cache.get('k7'), cache.get('k9')].map((v) => v?.length)).toEqual([undefined, 30, 30]);
    cache.set('huge', 'x'.repeat(101));
    expect(cache.get('huge')).toBeUndefined();
    expect(cache.bytes).toBe(90);
    cache.set('k7', 'y'.repeat(10));
    expect(cache.bytes).toBe(70);
    cache.delete('k7');
    expect(cache.bytes).toBe(60);
  });
});
