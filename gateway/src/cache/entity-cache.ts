import { createHash } from 'node:crypto';
import type { GraphQLDataSourceProcessOptions, GraphQLDataSource } from '@apollo/gateway';
import type { Logger } from '@dream/common';
import type { GatewayContext } from '../context';
import { isFailingAnswer } from '../upstream';
import { hintsOf, type SubgraphHints } from './cache-hints';
import { planFetch, tagsIn, type FetchPlan, type Policy } from './cache-policy';
import type { CacheEntry, CacheStore } from './cache-store';

export type GatewayGraphQLResponse = Awaited<ReturnType<GraphQLDataSource['process']>>;
type Request = GraphQLDataSourceProcessOptions<GatewayContext>['request'];
/** Sends (part of) a fetch upstream with these variables. */
export type Load = (variables: Record<string, unknown> | undefined) => Promise<GatewayGraphQLResponse>;

/** What the cache did for one value: answered it, sent it upstream, or answered it expired for a subgraph that could not. */
export type CacheOutcome = 'hit' | 'miss' | 'stale';

export interface EntityCacheSettings {
  /** Cache PRIVATE data per user (false: never cache it). */
  privatePerUser: boolean;
  /** How long past its maxAge a PUBLIC entry may answer for a subgraph that cannot (0: never). */
  staleMs: number;
  /** Upper bound on every hint's maxAge; 0 keeps entries only as the fallback of a subgraph that cannot answer. */
  maxAgeCapMs: number;
  /** After a caller's mutation, their reads skip the cache this long (the invalidation event is on its way). */
  writeBypassMs: number;
}

const MAX_PLANS = 2000;
const sha = (s: string) => createHash('sha1').update(s).digest('base64url');

/** The user a PRIVATE entry belongs to; undefined = PRIVATE data is not cached for this request. */
const userScope = (settings: EntityCacheSettings, ctx: Partial<GatewayContext> | undefined) =>
  settings.privatePerUser && ctx?.user?.id ? `:u:${sha(ctx.user.id)}` : undefined;

/**
 * The gateway's entity cache, in the spirit of Apollo Router's: subgraph fetches whose fields the
 * subgraph marks cacheable (`@cacheControl`) are answered from the CacheStore, root fetches whole and
 * `_entities` fetches per representation (only the misses go upstream). It is also the fallback of a
 * subgraph that cannot answer: PUBLIC entries past their maxAge (within `staleMs`) answer for it, and
 * the request is told so (see stale-marker.ts).
 */
export class EntityCache {
  private hints = new Map<string, SubgraphHints>();
  /** subgraph + operation text → what may be cached of it (null: nothing). */
  private readonly plans = new Map<string, FetchPlan | null>();
  /** caller → epoch ms until which their reads skip the cache. */
  private readonly bypass = new Map<string, number>();

  constructor(
    readonly store: CacheStore,
    private readonly settings: EntityCacheSettings,
    private readonly logger: Logger,
    /** Counts outcomes (metrics); `n` values at once. */
    private readonly count: (subgraph: string, outcome: CacheOutcome, n: number) => void = () => undefined,
  ) {}

  /** New subgraph SDLs (every composition): hints are read again and plans recomputed on demand. */
  refresh(sdls: ReadonlyArray<[string, string]>): void {
    const next = new Map<string, SubgraphHints>();
    for (const [name, sdl] of sdls) {
      try {
        next.set(name, hintsOf(sdl));
      } catch (err) {
        this.logger.warn({ subgraph: name, err: (err as Error).message }, 'no cache hints for a subgraph whose SDL does not parse');
      }
    }
    this.hints = next;
    this.plans.clear();
  }

  plan(subgraph: string, query: string): FetchPlan | undefined {
    const k = `${subgraph}\n${query}`;
    let p = this.plans.get(k);
    if (p === undefined) {
      const hints = this.hints.get(subgraph);
      p = (hints && planFetch(hints, query)) ?? null;
      if (this.plans.size >= MAX_PLANS) this.plans.clear();
      this.plans.set(k, p);
    }
    return p ?? undefined;
  }

  /** A mutation by this caller was sent: their own reads skip the cache until its events have landed. */
  wrote(caller: string): void {
    if (!this.settings.writeBypassMs) return;
    const now = Date.now();
    this.bypass.delete(caller);
    this.bypass.set(caller, now + this.settings.writeBypassMs);
    for (const [c, until] of this.bypass) {
      if (until > now) break;
      this.bypass.delete(c);
    }
  }

  /** Runs one query fetch through the cache (plan from `plan`); `load` sends what must go upstream. */
  async run(subgraph: string, plan: FetchPlan, request: Request, ctx: Partial<GatewayContext> | undefined, caller: string | undefined, load: Load): Promise<GatewayGraphQLResponse> {
    const until = caller === undefined ? undefined : this.bypass.get(caller);
    const usable = this.store.active && !(until !== undefined && until > Date.now());
    if (!usable) return load(request.variables);
    return plan.kind === 'root' ? this.root(subgraph, plan.policy, request, ctx, load) : this.entities(subgraph, plan.byType, request, ctx, load);
  }

  private keyScope(policy: Policy, ctx: Partial<GatewayContext> | undefined): string | undefined {
    return policy.private ? userScope(this.settings, ctx) : '';
  }

  private async root(subgraph: string, policy: Policy, request: Request, ctx: Partial<GatewayContext> | undefined, load: Load): Promise<GatewayGraphQLResponse> {
    const scope = this.keyScope(policy, ctx);
    if (scope === undefined) return load(request.variables);
    const key = `gwc:v1:${subgraph}:Query:${sha(`${request.query}\n${request.operationName ?? ''}\n${JSON.stringify(request.variables ?? {})}`)}${scope}`;
    const [entry] = await this.store.getMany([key]);
    const startedAt = Date.now();
    if (entry && entry.freshUntil > startedAt) {
      this.count(subgraph, 'hit', 1);
      return { data: JSON.parse(entry.text) as Record<string, unknown> };
    }
    this.count(subgraph, 'miss', 1);
    const answer = await this.orStale(subgraph, ctx, () => load(request.variables), () => (entry?.public ? [entry] : undefined));
    if ('stale' in answer) {
      this.count(subgraph, 'stale', 1);
      return { data: JSON.parse(answer.stale[0].text) as Record<string, unknown> };
    }
    const { response } = answer;
    if (response.data && !response.errors?.length) {
      const tags = new Set(policy.fixedTags);
      tagsIn(response.data, policy.tags, tags);
      this.store.set(key, this.entry(JSON.stringify(response.data), policy, [...tags], startedAt));
    }
    return response;
  }

  private async entities(
    subgraph: string,
    byType: Map<string, Policy>,
    request: Request,
    ctx: Partial<GatewayContext> | undefined,
    load: Load,
  ): Promise<GatewayGraphQLResponse> {
    const reps = request.variables?.representations;
    if (!Array.isArray(reps)) return load(request.variables);
    const { representations: _reps, ...rest } = request.variables ?? {};
    const selection = sha(`${request.query}\n${JSON.stringify(rest)}`);
    const keys: Array<string | undefined> = [];
    const policies: Array<Policy | undefined> = [];
    for (const rep of reps as Array<Record<string, unknown>>) {
      const type = typeof rep?.__typename === 'string' ? rep.__typename : undefined;
      const policy = type ? byType.get(type) : undefined;
      const scope = policy && this.keyScope(policy, ctx);
      policies.push(policy);
      keys.push(policy && scope !== undefined ? `gwc:v1:${subgraph}:${type}:${sha(JSON.stringify(rep))}:${selection}${scope}` : undefined);
    }
    const cacheable = keys.flatMap((k, i) => (k ? [i] : []));
    if (!cacheable.length) return load(request.variables);
    const found = await this.store.getMany(cacheable.map((i) => keys[i]!));
    const entries = new Array<CacheEntry | undefined>(reps.length);
    cacheable.forEach((i, j) => (entries[i] = found[j]));
    const startedAt = Date.now();
    const misses: number[] = [];
    for (let i = 0; i < reps.length; i++) if (!(entries[i] && entries[i]!.freshUntil > startedAt)) misses.push(i);
    const out = new Array<unknown>(reps.length);
    for (let i = 0; i < reps.length; i++) if (!misses.includes(i)) out[i] = JSON.parse(entries[i]!.text);
    this.count(subgraph, 'hit', reps.length - misses.length);
    if (!misses.length) return { data: { _entities: out } };
    this.count(subgraph, 'miss', misses.length);

    const missReps = misses.map((i) => reps[i] as unknown);
    const answer = await this.orStale(
      subgraph,
      ctx,
      () => load({ ...request.variables, representations: missReps }),
      () => {
        const stale = misses.map((i) => entries[i]);
        return stale.every((e) => e?.public) ? (stale as CacheEntry[]) : undefined;
      },
    );
    if ('stale' in answer) {
      this.count(subgraph, 'stale', misses.length);
      misses.forEach((i, j) => (out[i] = JSON.parse(answer.stale[j].text)));
      return { data: { _entities: out } };
    }
    const { response } = answer;
    const got = (response.data as { _entities?: unknown } | null | undefined)?._entities;
    const failed = new Set<number>();
    const errors = response.errors?.map((err) => {
      const path = err.path;
      if (!path || path[0] !== '_entities' || typeof path[1] !== 'number') return err;
      failed.add(path[1]);
      return { ...err, path: ['_entities', misses[path[1]] ?? path[1], ...path.slice(2)] };
    });
    // no entity list (the fetch failed as a whole): its errors, pointing at the gateway's own indexes
    if (!Array.isArray(got) || got.length !== misses.length) return { ...response, ...(errors ? { errors } : {}) } as GatewayGraphQLResponse;
    misses.forEach((i, j) => {
      out[i] = got[j];
      const key = keys[i];
      const policy = policies[i];
      if (!key || !policy || got[j] === null || failed.has(j)) return;
      const rep = reps[i] as Record<string, unknown>;
      const keyField = this.hints.get(subgraph)?.get(String(rep.__typename))?.keyField;
      const tags = new Set<string>();
      if (keyField && (typeof rep[keyField] === 'string' || typeof rep[keyField] === 'number')) tags.add(`${String(rep.__typename)}:${String(rep[keyField])}`);
      tagsIn(got[j], policy.tags, tags);
      this.store.set(key, this.entry(JSON.stringify(got[j]), policy, [...tags], startedAt));
    });
    return { ...response, data: { ...response.data, _entities: out }, ...(errors ? { errors } : {}) } as GatewayGraphQLResponse;
  }

  private entry(text: string, policy: Policy, tags: string[], at: number): CacheEntry {
    const freshUntil = at + Math.min(policy.maxAgeMs, this.settings.maxAgeCapMs);
    const staleUntil = freshUntil + (policy.private ? 0 : this.settings.staleMs);
    return { text, freshUntil, staleUntil, public: !policy.private, tags, at };
  }

  /**
   * The upstream answer, or — when the subgraph could not answer (no instance, or every one tried
   * failed) and `stale()` has PUBLIC entries for all of it — those entries, with the request marked.
   */
  private async orStale(
    subgraph: string,
    ctx: Partial<GatewayContext> | undefined,
    fetch: () => Promise<GatewayGraphQLResponse>,
    stale: () => CacheEntry[] | undefined,
  ): Promise<{ response: GatewayGraphQLResponse } | { stale: CacheEntry[] }> {
    let response: GatewayGraphQLResponse;
    try {
      response = await fetch();
    } catch (err) {
      const entries = this.settings.staleMs ? stale() : undefined;
      if (!entries) throw err;
      this.markStale(subgraph, ctx);
      return { stale: entries };
    }
    if (this.settings.staleMs && isFailingAnswer(200, response as Record<string, unknown>)) {
      const entries = stale();
      if (entries) {
        this.markStale(subgraph, ctx);
        return { stale: entries };
      }
    }
    return { response };
  }

  private markStale(subgraph: string, ctx: Partial<GatewayContext> | undefined): void {
    if (!ctx) return;
    ctx.staleFrom ??= new Set();
    ctx.staleFrom.add(subgraph);
  }
}
