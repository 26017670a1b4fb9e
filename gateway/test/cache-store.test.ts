import { createLogger, type Redis } from '@dream/common';
import { CacheStore, type CacheEntry } from '../src/cache/cache-store';

/** Redis as the store sees it, with nothing in it: only the local layer answers. */
const emptyRedis = () => ({ status: 'ready', mget: async (...keys: string[]) => keys.map(() => null), eval: async () => 1 }) as unknown as Redis;

const entry = (tags: string[], at = Date.now()): CacheEntry => ({ text: '{}', freshUntil: at + 60_000, staleUntil: at + 120_000, public: true, tags, at });

describe('CacheStore local layer', () => {
  const store = (max = 3) => new CacheStore({ redis: emptyRedis(), subscribed: () => true, localMaxEntries: max, logger: createLogger('test', { level: 'silent' }) });

  it('is bounded: the least recently used entry goes first', async () => {
    const s = store(2);
    s.set('a', entry(['T:a']));
    s.set('b', entry(['T:b']));
    await s.getMany(['a']); // a is now the most recently used
    s.set('c', entry(['T:c']));
    const [a, b, c] = await s.getMany(['a', 'b', 'c']);
    expect([!!a, !!b, !!c]).toEqual([true, false, true]);
    expect(s.localSize).toBe(2);
  });

  it('an invalidation drops every entry of the tag and refuses fills by fetches that started before it', async () => {
    const s = store();
    const before = Date.now() - 10;
    s.set('x', entry(['Course:1', 'list:Course']));
    s.set('y', entry(['Course:2']));
    const seen: string[][] = [];
    s.on('invalidated', (tags: string[]) => seen.push(tags));
    await s.invalidate(['Course:1']);
    expect(seen).toEqual([['Course:1']]);
    const [x, y] = await s.getMany(['x', 'y']);
    expect(x).toBeUndefined();
    expect(y).toBeDefined();
    s.set('x', entry(['Course:1'], before)); // read the old row before the write
    expect((await s.getMany(['x']))[0]).toBeUndefined();
    s.set('x', entry(['Course:1'], Date.now() + 1)); // started after it
    expect((await s.getMany(['x']))[0]).toBeDefined();
  });

  it('is off while the subscriber is down, and empties its local layer when a connection drops', async () => {
    let up = true;
    const s = new CacheStore({ redis: emptyRedis(), subscribed: () => up, localMaxEntries: 10, logger: createLogger('test', { level: 'silent' }) });
    expect(s.active).toBe(true);
    s.set('a', entry(['T:a']));
    up = false;
    expect(s.active).toBe(false);
    s.connectionLost();
    expect(s.localSize).toBe(0);
  });
});
