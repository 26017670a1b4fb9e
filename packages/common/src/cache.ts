import type { Redis } from 'ioredis';
import { Counter, type Registry } from 'prom-client';
import type { Logger } from './logger';

/**
 * Cache-aside in Redis for entities read far more often than written (courses, user profiles).
 *
 * - Keys are versioned (`v1:course:<id>`): bump CACHE_KEY_VERSION when a cached shape changes and old
 *   entries are simply never read again (they expire with their TTL).
 * - Values are JSON with a TTL, so a missed invalidation heals by itself.
 * - Batches: `getMany` is one MGET and `setMany` one script call, so 100 entities cost one round trip each.
 * - Writers call `invalidate` BEFORE answering: it deletes the entries and sets a short "fence" per key.
 *   A reader that fetched the old row from the database just before the write cannot put it back while
 *   the fence stands (the fill script skips fenced keys), which closes the classic cache-aside race.
 * - Fail-open: while Redis is down (or a command fails) reads go to the database and writes succeed.
 *   Invalidations that could not reach Redis are remembered and replayed before this process uses the
 *   cache again, so it never serves an entry it knows is stale.
 */
export const CACHE_KEY_VERSION = 'v1';

export interface CacheMetrics {
  hits: Counter<'entity'>;
  misses: Counter<'entity'>;
  errors: Counter<'entity'>;
}

function counter(registry: Registry | undefined, name: string, help: string): Counter<'entity'> {
  const existing = registry?.getSingleMetric(name);
  if (existing) return existing as Counter<'entity'>;
  return new Counter({ name, help, labelNames: ['entity'], registers: registry ? [registry] : [] });
}

/** cache_hits_total / cache_misses_total / cache_errors_total {entity}, once per registry. */
export function cacheMetrics(registry?: Registry): CacheMetrics {
  return {
    hits: counter(registry, 'cache_hits_total', 'Entities served from the Redis cache'),
    misses: counter(registry, 'cache_misses_total', 'Entities not in the Redis cache (read from the database)'),
    errors: counter(registry, 'cache_errors_total', 'Cache operations that failed or were skipped because Redis was unavailable'),
  };
}

export interface EntityCacheOptions {
  redis: Redis;
  /** Names the key space and the metrics label, e.g. 'course' → `v1:course:<id>`. */
  entity: string;
  ttlSeconds: number;
  /** false: every call goes to the source (benchmarks without cache). */
  enabled?: boolean;
  /** How long an invalidated key refuses fills (default 5000 ms): longer than a database read. */
  fenceMs?: number;
  metrics?: CacheMetrics;
  logger?: Logger;
}

// KEYS: the entity keys; ARGV[1]: ttl seconds; ARGV[2..]: JSON values. Skips keys with a live fence.
const FILL_SCRIPT = `
local n = 0
for i, key in ipairs(KEYS) do
  if redis.call('EXISTS', key .. ':fence') == 0 then
    redis.call('SET', key, ARGV[i + 1], 'EX', ARGV[1])
    n = n + 1
  end
end
return n`;

export class EntityCache<T> {
  readonly entity: string;
  readonly enabled: boolean;
  private readonly redis: Redis;
  private readonly ttlSeconds: number;
  private readonly fenceMs: number;
  private readonly metrics?: CacheMetrics;
  private readonly logger?: Logger;
  /** Keys whose invalidation did not reach Redis; replayed before the cache is trusted again. */
  private readonly pending = new Set<string>();
  private warnedAt = 0;

  constructor(opts: EntityCacheOptions) {
    this.redis = opts.redis;
    this.entity = opts.entity;
    this.ttlSeconds = opts.ttlSeconds;
    this.enabled = opts.enabled ?? true;
    this.fenceMs = opts.fenceMs ?? 5000;
    this.metrics = opts.metrics;
    this.logger = opts.logger;
  }

  key(id: string): string {
    return `${CACHE_KEY_VERSION}:${this.entity}:${id}`;
  }

  /**
   * Cache-aside for a batch: cached entities first (one MGET), then `fetch` for the misses (the caller
   * makes that ONE database query), then the fetched ones are cached. Ids `fetch` does not return are
   * absent from the result (and not cached: an unknown id may be created later).
   */
  async loadMany(ids: readonly string[], fetch: (missing: string[]) => Promise<T[]>, idOf: (v: T) => string): Promise<Map<string, T>> {
    const found = await this.getMany(ids);
    const missing = [...new Set(ids.filter((id) => !found.has(id)))];
    if (missing.length > 0) {
      const fetched = await fetch(missing);
      for (const v of fetched) found.set(idOf(v), v);
      await this.setMany(fetched.map((v) => [idOf(v), v] as const));
    }
    return found;
  }

  /** Cached entities by id (one MGET); an empty map when disabled or Redis is unavailable. */
  async getMany(ids: readonly string[]): Promise<Map<string, T>> {
    const out = new Map<string, T>();
    const unique = [...new Set(ids)];
    if (unique.length === 0 || !(await this.usable())) {
      if (this.enabled && unique.length > 0) this.metrics?.misses.inc({ entity: this.entity }, unique.length);
      return out;
    }
    try {
      const values = await this.redis.mget(...unique.map((id) => this.key(id)));
      values.forEach((v, i) => {
        if (v === null) return;
        try {
          out.set(unique[i], JSON.parse(v) as T);
        } catch {
          // A corrupt entry is a miss; the fill overwrites it.
        }
      });
    } catch (err) {
      this.failed(err, 'read');
    }
    this.metrics?.hits.inc({ entity: this.entity }, out.size);
    this.metrics?.misses.inc({ entity: this.entity }, unique.length - out.size);
    return out;
  }

  /** Caches entities (one round trip); keys invalidated within the fence time are skipped. Never throws. */
  async setMany(entries: ReadonlyArray<readonly [string, T]>): Promise<void> {
    if (entries.length === 0 || !(await this.usable())) return;
    try {
      await this.redis.eval(
        FILL_SCRIPT,
        entries.length,
        ...entries.map(([id]) => this.key(id)),
        String(this.ttlSeconds),
        ...entries.map(([, v]) => JSON.stringify(v)),
      );
    } catch (err) {
      this.failed(err, 'fill');
    }
  }

  /**
   * Drops the entries of ids a write changed and fences them against late fills; call it after the
   * write commits and before answering. Never throws: when Redis cannot be reached the keys are
   * remembered and deleted before this process reads the cache again. True when Redis has it.
   */
  async invalidate(ids: readonly string[]): Promise<boolean> {
    if (!this.enabled || ids.length === 0) return true;
    const keys = ids.map((id) => this.key(id));
    for (const k of keys) this.pending.add(k);
    return this.flushPending();
  }

  /** True when the cache may be used now: enabled, Redis ready, and no invalidation outstanding. */
  private async usable(): Promise<boolean> {
    if (!this.enabled) return false;
    if (this.redis.status !== 'ready') {
      // Do not wait for a reconnect: the database answers instead.
      this.metrics?.errors.inc({ entity: this.entity });
      return false;
    }
    if (this.pending.size > 0) return this.flushPending();
    return true;
  }

  /** Deletes and fences every pending key in one MULTI; true when nothing is left pending. */
  private async flushPending(): Promise<boolean> {
    if (this.pending.size === 0) return true;
    const keys = [...this.pending];
    if (this.redis.status !== 'ready') {
      this.metrics?.errors.inc({ entity: this.entity });
      return false;
    }
    try {
      const multi = this.redis.multi().del(...keys);
      for (const k of keys) multi.set(`${k}:fence`, '1', 'PX', this.fenceMs);
      const res = await multi.exec();
      const failed = res?.find(([e]) => e);
      if (!res || failed) throw failed?.[0] ?? new Error('transaction aborted');
      for (const k of keys) this.pending.delete(k);
      return this.pending.size === 0;
    } catch (err) {
      this.failed(err, 'invalidate');
      return false;
    }
  }

  private failed(err: unknown, op: string): void {
    this.metrics?.errors.inc({ entity: this.entity });
    const now = Date.now();
    // One line per 10 s at most: during an outage every request would log.
    if (now - this.warnedAt > 10_000) {
      this.warnedAt = now;
      this.logger?.warn({ err: (err as Error)?.message, entity: this.entity, op }, 'cache unavailable; using the database');
    }
  }
}

/**
 * Cached query results that any write to the entity type may change (e.g. course lists). Entries live
 * under a generation number; a write bumps the generation (INCR) before answering, so every older
 * entry becomes unreachable at once on every replica, and a fill computed from pre-write data lands
 * under the old generation where nobody reads it. Same fail-open rules as EntityCache.
 */
export class GenerationalCache<T> {
  private readonly genKey: string;
  private pendingBump = false;

  constructor(
    private readonly opts: Omit<EntityCacheOptions, 'fenceMs'>,
  ) {
    this.genKey = `${CACHE_KEY_VERSION}:${opts.entity}:gen`;
  }

  private key(gen: string, id: string): string {
    return `${CACHE_KEY_VERSION}:${this.opts.entity}:${gen}:${id}`;
  }

  private usable(): boolean {
    if (!(this.opts.enabled ?? true)) return false;
    if (this.opts.redis.status !== 'ready') {
      this.opts.metrics?.errors.inc({ entity: this.opts.entity });
      return false;
    }
    return true;
  }

  /**
   * The cached value for `id` in the current generation, else `compute()` (cached under the generation
   * read before computing). One round trip on a hit (a script reads generation and entry together).
   */
  async getOrCompute(id: string, compute: () => Promise<T>): Promise<T> {
    let gen: string | undefined;
    if (this.usable() && (!this.pendingBump || (await this.bump()))) {
      try {
        const [g, v] = (await this.opts.redis.eval(
          "local g = redis.call('GET', KEYS[1]) or '0'; return {g, redis.call('GET', ARGV[1] .. g .. ARGV[2])}",
          1,
          this.genKey,
          `${CACHE_KEY_VERSION}:${this.opts.entity}:`,
          `:${id}`,
        )) as [string, string | null];
        gen = g;
        if (v !== null) {
          this.opts.metrics?.hits.inc({ entity: this.opts.entity });
          return JSON.parse(v) as T;
        }
      } catch (err) {
        this.opts.metrics?.errors.inc({ entity: this.opts.entity });
        this.opts.logger?.debug({ err: (err as Error).message }, 'generational cache read failed');
      }
    }
    if (this.opts.enabled ?? true) this.opts.metrics?.misses.inc({ entity: this.opts.entity });
    const value = await compute();
    if (gen !== undefined) {
      try {
        await this.opts.redis.set(this.key(gen, id), JSON.stringify(value), 'EX', this.opts.ttlSeconds);
      } catch {
        this.opts.metrics?.errors.inc({ entity: this.opts.entity });
      }
    }
    return value;
  }

  /** Makes every cached entry unreachable; never throws (replayed before the next read when Redis was down). True when Redis has it. */
  async invalidateAll(): Promise<boolean> {
    if (!(this.opts.enabled ?? true)) return true;
    this.pendingBump = true;
    return this.bump();
  }

  private async bump(): Promise<boolean> {
    if (this.opts.redis.status !== 'ready') return false;
    try {
      await this.opts.redis.incr(this.genKey);
      this.pendingBump = false;
      return true;
    } catch (err) {
      this.opts.metrics?.errors.inc({ entity: this.opts.entity });
      this.opts.logger?.debug({ err: (err as Error).message }, 'generation bump failed');
      return false;
    }
  }
}
