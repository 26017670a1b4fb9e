import { EventEmitter } from 'node:events';
import type { Logger, Redis } from '@dream/common';

/** One cached value: a subgraph's answer for one root fetch or one entity. */
export interface CacheEntry {
  /** The value as JSON text: every reader parses its own copy (the gateway merges into what it gets). */
  text: string;
  /** Epoch ms: served normally until then… */
  freshUntil: number;
  /** …and only as the fallback of a subgraph that cannot answer until then (never for PRIVATE data). */
  staleUntil: number;
  public: boolean;
  tags: string[];
  /** Epoch ms when the fetch that produced it started: an invalidation after that makes it unusable. */
  at: number;
}

export interface CacheStoreOptions {
  /** Commands (GET, fill and invalidation scripts). */
  redis: Redis;
  /** Whether the invalidation subscriber is connected: while it is not, events can be missed. */
  subscribed: () => boolean;
  localMaxEntries: number;
  /** How long an invalidation refuses fills by fetches that started before it. */
  fenceMs?: number;
  logger: Logger;
}

const PREFIX = 'gwc:v1:';
const tagKey = (tag: string) => `${PREFIX}tag:${tag}`;

// KEYS[1]: entry; KEYS[2..]: its tag sets. ARGV: value, ttl ms, fetch start (epoch ms).
// Skips the fill when one of its tags was invalidated after the fetch started (its fence is newer).
const FILL = `
for i = 2, #KEYS do
  local f = redis.call('GET', KEYS[i] .. ':fence')
  if f and tonumber(f) >= tonumber(ARGV[3]) then return 0 end
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
for i = 2, #KEYS do
  redis.call('SADD', KEYS[i], KEYS[1])
  if redis.call('PTTL', KEYS[i]) < tonumber(ARGV[2]) then redis.call('PEXPIRE', KEYS[i], ARGV[2]) end
end
return 1`;

// KEYS: tag sets. ARGV: now (epoch ms), fence ms. Deletes every entry of each tag and fences the tag.
const INVALIDATE = `
for i = 1, #KEYS do
  local members = redis.call('SMEMBERS', KEYS[i])
  for j = 1, #members, 500 do
    redis.call('DEL', unpack(members, j, math.min(j + 499, #members)))
  end
  redis.call('DEL', KEYS[i])
  redis.call('SET', KEYS[i] .. ':fence', ARGV[1], 'PX', ARGV[2])
end
return 1`;

/**
 * The entity cache's two layers: a bounded in-process LRU in front of Redis (shared by every gateway).
 * Invalidation is by tag (`Course:42`, `list:Course`): every gateway hears the same domain event,
 * drops its local entries and runs the Redis deletion (idempotent). While Redis or the subscriber is
 * unreachable the cache is off (`active` false): invalidations could be missed, so nothing is served
 * from either layer, and the local layer is emptied when they come back.
 */
export class CacheStore extends EventEmitter {
  private readonly local = new Map<string, CacheEntry>();
  private readonly byTag = new Map<string, Set<string>>();
  /** tag → epoch ms of its last invalidation, kept for the fence window. */
  private readonly invalidatedAt = new Map<string, number>();
  private readonly fenceMs: number;
  private wasActive = false;

  constructor(private readonly opts: CacheStoreOptions) {
    super();
    this.fenceMs = opts.fenceMs ?? 5000;
  }

  /** Redis and the invalidation subscriber are both up. */
  get active(): boolean {
    const on = this.opts.redis.status === 'ready' && this.opts.subscribed();
    if (on !== this.wasActive) {
      this.wasActive = on;
      // coming back: entries kept locally may have missed an invalidation while we were cut off
      if (on) this.clearLocal();
      this.opts.logger.info({ active: on }, on ? 'entity cache on' : 'entity cache off (Redis unreachable)');
    }
    return on;
  }

  get localSize(): number {
    return this.local.size;
  }

  clearLocal(): void {
    this.local.clear();
    this.byTag.clear();
  }

  /** A Redis connection dropped: events may be missed from now on, so nothing kept locally is trusted. Emits 'off'. */
  connectionLost(): void {
    this.clearLocal();
    this.emit('off');
  }

  /** Entries by key (fresh or not: the caller decides), from the local layer, then Redis. */
  async getMany(keys: string[]): Promise<Array<CacheEntry | undefined>> {
    const out = new Array<CacheEntry | undefined>(keys.length);
    const missing: number[] = [];
    const now = Date.now();
    for (let i = 0; i < keys.length; i++) {
      const e = this.local.get(keys[i]);
      if (e && e.staleUntil > now) {
        // most recently used last
        this.local.delete(keys[i]);
        this.local.set(keys[i], e);
        out[i] = e;
      } else missing.push(i);
    }
    if (!missing.length) return out;
    let raw: Array<string | null>;
    try {
      raw = await this.opts.redis.mget(...missing.map((i) => keys[i]));
    } catch (err) {
      this.opts.logger.debug({ err: (err as Error).message }, 'entity cache read failed');
      return out;
    }
    for (let j = 0; j < missing.length; j++) {
      const text = raw[j];
      if (!text) continue;
      const e = parseEntry(text);
      if (!e || e.staleUntil <= now || this.fencedOff(e.tags, e.at)) continue;
      out[missing[j]] = e;
      this.putLocal(keys[missing[j]], e);
    }
    return out;
  }

  /** Stores an entry in both layers unless one of its tags was invalidated since its fetch started. */
  set(key: string, entry: CacheEntry): void {
    if (this.fencedOff(entry.tags, entry.at)) return;
    this.putLocal(key, entry);
    const ttl = Math.max(1, entry.staleUntil - Date.now());
    const value = JSON.stringify(entry);
    this.opts.redis.eval(FILL, 1 + entry.tags.length, key, ...entry.tags.map(tagKey), value, ttl, entry.at).catch((err: Error) => {
      this.opts.logger.debug({ err: err.message }, 'entity cache fill failed');
    });
  }

  /** Drops every entry carrying one of `tags`, here at once and in Redis; emits 'invalidated' with the tags. */
  async invalidate(tags: string[]): Promise<void> {
    const now = Date.now();
    for (const tag of tags) {
      this.invalidatedAt.delete(tag); // re-inserted last: the map stays in time order
      this.invalidatedAt.set(tag, now);
      const keys = this.byTag.get(tag);
      if (keys) for (const k of keys) this.dropLocal(k);
      this.byTag.delete(tag);
    }
    this.pruneFences(now);
    this.emit('invalidated', tags);
    try {
      await this.opts.redis.eval(INVALIDATE, tags.length, ...tags.map(tagKey), now, this.fenceMs);
    } catch (err) {
      this.opts.logger.warn({ err: (err as Error).message, tags }, 'entity cache invalidation could not reach Redis');
    }
  }

  private fencedOff(tags: string[], at: number): boolean {
    if (!this.invalidatedAt.size) return false;
    return tags.some((t) => (this.invalidatedAt.get(t) ?? -Infinity) >= at);
  }

  private pruneFences(now: number): void {
    for (const [tag, at] of this.invalidatedAt) {
      if (now - at <= this.fenceMs) break; // insertion order is time order
      this.invalidatedAt.delete(tag);
    }
  }

  private putLocal(key: string, e: CacheEntry): void {
    this.dropLocal(key);
    this.local.set(key, e);
    for (const t of e.tags) {
      let s = this.byTag.get(t);
      if (!s) this.byTag.set(t, (s = new Set()));
      s.add(key);
    }
    if (this.local.size > this.opts.localMaxEntries) this.dropLocal(this.local.keys().next().value as string);
  }

  private dropLocal(key: string): void {
    const e = this.local.get(key);
    if (!e) return;
    this.local.delete(key);
    for (const t of e.tags) {
      const s = this.byTag.get(t);
      s?.delete(key);
      if (s && !s.size) this.byTag.delete(t);
    }
  }
}

function parseEntry(text: string): CacheEntry | undefined {
  try {
    const e = JSON.parse(text) as Partial<CacheEntry>;
    if (typeof e.text !== 'string' || typeof e.freshUntil !== 'number' || typeof e.staleUntil !== 'number' || !Array.isArray(e.tags)) return undefined;
    return { text: e.text, freshUntil: e.freshUntil, staleUntil: e.staleUntil, public: e.public === true, tags: e.tags as string[], at: typeof e.at === 'number' ? e.at : 0 };
  } catch {
    return undefined;
  }
}
