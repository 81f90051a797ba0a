import { LRUCache } from 'lru-cache';

/**
 * How long a hot-path lookup of configuration (lines, tenant settings, hooks, inbounds, startable flows) may lag
 * behind a change made elsewhere when the change's notification is lost. The instance that makes a change drops its
 * entries at once, and the others when its notification arrives (milliseconds).
 */
export const LOOKUP_TTL_MS = 10_000;

/** Every cache of this process by name, so that a clear elsewhere can reach them. */
const registry = new Map<string, Array<LookupCache<unknown>>>();
let announce: ((name: string) => void) | null = null;

/** Tells the other processes and instances when a cache is cleared here (set up by `CacheNotifications`). */
export function announceCacheClears(send: (name: string) => void): () => void {
  const previous = announce;
  announce = send;
  return () => {
    if (announce === send) announce = previous;
  };
}

/** Clears this process's caches named `name` (or all of them), after another process or instance changed what they hold. */
export function clearCaches(name?: string): void {
  const caches = name === undefined ? [...registry.values()].flat() : (registry.get(name) ?? []);
  for (const cache of caches) cache.clear(false);
}

/**
 * A bounded cache of configuration lookups for the hot paths (every webhook, every message), kept for LOOKUP_TTL_MS.
 * A miss loads the value once however many callers ask at the same time; a failed load is not cached. A clear is
 * announced to every other process and instance (PostgreSQL NOTIFY); LOOKUP_TTL_MS bounds the staleness if a
 * notification is lost.
 */
export class LookupCache<V> {
  private readonly cache: LRUCache<string, { value: V }>;
  private readonly loading = new Map<string, Promise<V>>();
  /** Bumped by `clear`. */
  private generation = 0;

  /** `name` is shared by the caches of the same lookups in every process and instance (see clearCaches). */
  constructor(
    readonly name: string,
    max = 10_000,
  ) {
    this.cache = new LRUCache({ max, ttl: LOOKUP_TTL_MS });
    registry.set(name, [...(registry.get(name) ?? []), this as LookupCache<unknown>]);
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

  /**
   * Several keys at once: what is not cached is loaded with one call of `loadMany`, which must return a value for
   * every key it is given.
   */
  async getMany(keys: string[], loadMany: (missing: string[]) => Promise<Map<string, V>>): Promise<Map<string, V>> {
    const found = new Map<string, V>();
    const missing: string[] = [];
    for (const key of keys) {
      const hit = this.cache.get(key);
      if (hit) found.set(key, hit.value);
      else missing.push(key);
    }
    if (missing.length === 0) return found;
    const generation = this.generation;
    const loaded = await loadMany(missing);
    for (const key of missing) {
      const value = loaded.get(key) as V;
      if (generation === this.generation) this.cache.set(key, { value });
      found.set(key, value);
    }
    return found;
  }

  /** Drops everything (after a change here: the next lookups read the database), here and, announced, everywhere else. */
  clear(announceIt = true): void {
    this.generation++;
    this.cache.clear();
    this.loading.clear();
    if (announceIt) announce?.(this.name);
  }
}
