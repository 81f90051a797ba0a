import { LRUCache } from 'lru-cache';

/**
 * How long a hot-path lookup of configuration (lines, tenant settings, hooks, inbounds, startable flows) may lag
 * behind a change made through another instance. The instance that makes a change drops its entries at once.
 */
export const LOOKUP_TTL_MS = 10_000;

/**
 * A bounded cache of configuration lookups for the hot paths (every webhook, every message), kept for LOOKUP_TTL_MS.
 * A miss loads the value once however many callers ask at the same time; a failed load is not cached.
 */
export class LookupCache<V> {
  private readonly cache: LRUCache<string, { value: V }>;
  private readonly loading = new Map<string, Promise<V>>();
  /** Bumped by `clear`. */
  private generation = 0;

  constructor(max = 10_000) {
    this.cache = new LRUCache({ max, ttl: LOOKUP_TTL_MS });
  }

  async get(key: string, load: () => Promise<V>): Promise<V> {
    const hit = this.cache.get(key);
    if (hit) return hit.value;
    let pending = this.loading.get(key);
    if (!pending) {
      const generation = this.generation;
      pending = load()
        .then((value) => {
          // A load that started before a change was dropped must not put the old value back.
          if (generation === this.generation) this.cache.set(key, { value });
          return value;
        })
        .finally(() => this.loading.delete(key));
      this.loading.set(key, pending);
    }
    return pending;
  }

  /** Drops everything (after a change here: the next lookups read the database). */
  clear(): void {
    this.generation++;
    this.cache.clear();
    this.loading.clear();
  }
}
