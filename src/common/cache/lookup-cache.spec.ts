import { announceCacheClears, clearCaches, LookupCache } from './lookup-cache.js';

describe('LookupCache', () => {
  it('loads a missing key once however many ask at the same time, then answers from memory', async () => {
    const cache = new LookupCache<number>('spec-once');
    let loads = 0;
    const load = async () => {
      loads++;
      await new Promise((r) => setTimeout(r, 5));
      return 42;
    };
    expect(await Promise.all([cache.get('k', load), cache.get('k', load), cache.get('k', load)])).toEqual([42, 42, 42]);
    expect(await cache.get('k', load)).toBe(42);
    expect(loads).toBe(1);
  });

  it('does not keep a failed load, nor a value loaded before a clear', async () => {
    const cache = new LookupCache<string>('spec-clear');
    await expect(cache.get('k', () => Promise.reject(new Error('db down')))).rejects.toThrow('db down');
    expect(await cache.get('k', async () => 'fresh')).toBe('fresh');

    let release!: (v: string) => void;
    const slow = cache.get('other', () => new Promise<string>((r) => (release = r)));
    cache.clear();
    release('old');
    expect(await slow).toBe('old');
    expect(await cache.get('other', async () => 'new')).toBe('new');
    expect(await cache.get('k', async () => 'reloaded')).toBe('reloaded');
  });

  it('announces a clear to the other processes, and clears by name when told', async () => {
    const told: string[] = [];
    announceCacheClears((name) => told.push(name));
    const a = new LookupCache<string>('spec-shared');
    const b = new LookupCache<string>('spec-shared');
    const other = new LookupCache<string>('spec-other');
    await a.get('k', async () => 'a');
    await b.get('k', async () => 'b');
    await other.get('k', async () => 'o');
    a.clear();
    expect(told).toEqual(['spec-shared']);
    clearCaches('spec-shared');
    expect(told).toEqual(['spec-shared']); // a clear from elsewhere is not announced again
    expect(await b.get('k', async () => 'b2')).toBe('b2');
    expect(await other.get('k', async () => 'o2')).toBe('o');
  });
});
