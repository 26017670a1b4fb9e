import type { GraphQLDataSource, GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import { AppError, type InstancePool, type ServiceInstance } from '@dream/common';
import type { EntityCache } from './cache/entity-cache';
import type { GatewayContext } from './context';
import { FailingAnswer, type UpstreamClient } from './upstream';

type GatewayGraphQLResponse = Awaited<ReturnType<GraphQLDataSource['process']>>;

export interface DataSourceOptions {
  name: string;
  pool: () => InstancePool<ServiceInstance>;
  upstream: UpstreamClient;
  onUpstreamError?: (subgraph: string, err: unknown) => void;
  /** Merge identical in-flight queries (same subgraph, operation, variables and forwarded headers). Default true. */
  dedupe?: boolean;
  /** Called when a fetch joins one already in flight (metrics, tests). */
  onMerged?: (subgraph: string) => void;
  /** Shared by the gateway's data sources so a write through one fences merged reads in all; default one of its own. */
  fence?: WriteFence;
  /** The entity cache (undefined: off, and nothing of it runs). */
  cache?: EntityCache;
}

/**
 * The gateway's subgraph operations start with their kind: a mutation may only be retried if it never
 * left, and only operations that are certainly queries may be merged (an anonymous `{ … }` is a query).
 */
type OperationKind = 'mutation' | 'query' | 'other';
const kindOf = (query: string | undefined): OperationKind =>
  !query ? 'other' : /^\s*mutation\b/.test(query) ? 'mutation' : /^\s*(?:query\b|\{)/.test(query) ? 'query' : 'other';

/** One upstream answer shared by merged fetches: each follower parses its own copy of the text. */
interface Flight {
  promise: Promise<{ json: Record<string, unknown>; text: string }>;
  /** WriteFence tick when it was sent. */
  startedAt: number;
}

/**
 * Read-your-writes for in-flight merging, shared by every subgraph's data source: a fetch that
 * started before a caller's write was acknowledged may have read the old state, so a later read by
 * that caller must not join it (the write may have been to another subgraph: buyCourse on users
 * changes what courses answers). Bounded: the oldest callers are forgotten first, and a forgotten
 * caller's reads simply never join a flight that started before the oldest remembered write.
 */
export class WriteFence {
  private tick = 0;
  private readonly lastWrite = new Map<string, number>();
  /** Lowest tick a forgotten caller's write could have had. */
  private forgottenUpTo = 0;

  constructor(private readonly max = 10_000) {}

  now(): number {
    return ++this.tick;
  }

  /** A write by `caller` was acknowledged by its subgraph. */
  wrote(caller: string): void {
    this.lastWrite.delete(caller);
    this.lastWrite.set(caller, this.now());
    if (this.lastWrite.size > this.max) {
      const [oldest, at] = this.lastWrite.entries().next().value as [string, number];
      this.lastWrite.delete(oldest);
      this.forgottenUpTo = Math.max(this.forgottenUpTo, at);
    }
  }

  /** May `caller` share a fetch that started at `startedAt`? */
  mayJoin(caller: string, startedAt: number): boolean {
    return startedAt > (this.lastWrite.get(caller) ?? this.forgottenUpTo);
  }
}

/**
 * One data source per subgraph, routing every fetch through the subgraph's InstancePool:
 * round-robin over live instances, a breaker per instance, queries retried once on the next
 * instance, mutations only when the first attempt never reached its instance. It implements
 * GraphQLDataSource directly (not RemoteGraphQLDataSource) to keep the hot path short: one
 * JSON.stringify, one undici request on a kept-alive connection, one JSON.parse.
 *
 * Identical in-flight queries are merged: a fetch whose key (subgraph, operation text, variables,
 * operation name, and every header we forward — the caller's token, X-Forwarded-For and a
 * caller-sent X-Request-Id) equals one already in flight waits for that one's answer instead of
 * sending its own. Two callers with different tokens never share an answer; mutations are never
 * merged. A request id the gateway generated itself is not part of the key (it carries no caller
 * input); the merged fetch travels with the first caller's id.
 *
 * Entity fetches send each distinct representation once (see dedupeRepresentations).
 */
export class PooledDataSource implements GraphQLDataSource<GatewayContext> {
  private readonly inFlight = new Map<string, Flight>();
  private readonly dedupe: boolean;
  private readonly fence: WriteFence;

  constructor(private readonly opts: DataSourceOptions) {
    this.dedupe = opts.dedupe ?? true;
    this.fence = opts.fence ?? new WriteFence();
  }

  async process(options: GraphQLDataSourceProcessOptions<GatewayContext>): Promise<GatewayGraphQLResponse> {
    const cache = this.opts.cache;
    const query = options.request.query;
    const kind = kindOf(query);
    if (cache && query) {
      const ctx = options.context as Partial<GatewayContext> | undefined;
      // only a signed-in caller can change what is cached (anonymous mutations are signup and login):
      // keying the bypass on an address or on "anonymous" would switch the cache off for everyone behind it
      const caller = ctx?.token;
      if (kind === 'mutation') {
        if (caller) cache.wrote(caller);
      } else {
        const plan = cache.plan(this.opts.name, query);
        if (plan) return cache.run(this.opts.name, plan, options.request, ctx, caller, (variables) => this.load(options, kind, variables));
      }
    }
    return this.load(options, kind, options.request.variables);
  }

  /** Sends one fetch (its representations deduplicated) with these variables. */
  private async load(options: GraphQLDataSourceProcessOptions<GatewayContext>, kind: OperationKind, vars: Record<string, unknown> | undefined): Promise<GatewayGraphQLResponse> {
    const { request } = options;
    const { variables, expand } = dedupeRepresentations(vars);
    const body = JSON.stringify({ query: request.query, variables, operationName: request.operationName });
    const answer = await this.fetch(options, kind, body);
    return expand ? expandEntities(answer, expand) : answer;
  }

  private async fetch(options: GraphQLDataSourceProcessOptions<GatewayContext>, kind: OperationKind, body: string): Promise<GatewayGraphQLResponse> {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    const ctx = options.context as Partial<GatewayContext> | undefined;
    if (ctx?.token) headers.authorization = `Bearer ${ctx.token}`;
    if (ctx?.requestId) headers['x-request-id'] = ctx.requestId;
    if (ctx?.forwardedFor) headers['x-forwarded-for'] = ctx.forwardedFor;

    const caller = `${headers.authorization ?? ''}\n${headers['x-forwarded-for'] ?? ''}`;
    if (kind === 'mutation') {
      try {
        return (await this.send(body, headers, false)).json as GatewayGraphQLResponse;
      } finally {
        // answered or failed (it may have been applied): reads from now on are fenced off older flights
        this.fence.wrote(caller);
      }
    }
    if (!this.dedupe || kind !== 'query') return this.send(body, headers, true).then((r) => r.json as GatewayGraphQLResponse);

    const key = `${caller}\n${ctx?.requestIdFromClient ? ctx.requestId : ''}\n${body}`;
    const flight = this.inFlight.get(key);
    if (flight && this.fence.mayJoin(caller, flight.startedAt)) {
      this.opts.onMerged?.(this.opts.name);
      const { text } = await flight.promise;
      return JSON.parse(text) as GatewayGraphQLResponse;
    }
    const mine: Flight = { promise: this.send(body, headers, true), startedAt: this.fence.now() };
    this.inFlight.set(key, mine);
    try {
      const { json } = await mine.promise;
      return json as GatewayGraphQLResponse;
    } finally {
      // a newer flight may have taken the key (this one was fenced off): leave it in place
      if (this.inFlight.get(key) === mine) this.inFlight.delete(key);
    }
  }

  /** How many distinct fetches are in flight right now (tests). */
  get inFlightCount(): number {
    return this.inFlight.size;
  }

  private async send(body: string, headers: Record<string, string>, idempotent: boolean): Promise<{ json: Record<string, unknown>; text: string }> {
    try {
      return await this.opts.pool().execute((inst) => this.opts.upstream.postGraphQL(inst.url, body, headers), { retryOnce: true, idempotent });
    } catch (err) {
      this.opts.onUpstreamError?.(this.opts.name, err);
      // the instance answered, with a failure (counted by its breaker, retried elsewhere if a query):
      // its own errors tell the client more than a generic "unavailable"
      const cause = err instanceof FailingAnswer ? err : (err as { cause?: unknown })?.cause;
      if (cause instanceof FailingAnswer) return cause.answer;
      if (err instanceof AppError) throw err;
      throw new AppError('SERVICE_UNAVAILABLE', `Service "${this.opts.name}" is unavailable.`);
    }
  }
}

/**
 * @apollo/gateway sends one representation per entity occurrence: 50 courses by 5 owners become 50
 * `User` representations, and the subgraph resolves and serializes 50 entities. Identical
 * representations (same typename, key and required fields — the same entity) are sent once; the
 * answer is expanded back to the gateway's order (`expand[i]` = the unique index of occurrence i),
 * each extra occurrence getting its own copy. Errors with an `_entities` path are repeated for every
 * occurrence of their entity.
 */
export function dedupeRepresentations(variables: Record<string, unknown> | undefined): {
  variables: Record<string, unknown> | undefined;
  expand?: number[];
} {
  const reps = variables?.representations;
  if (!Array.isArray(reps) || reps.length < 2) return { variables };
  const seen = new Map<string, number>();
  const unique: unknown[] = [];
  const expand = new Array<number>(reps.length);
  for (let i = 0; i < reps.length; i++) {
    const k = representationKey(reps[i]);
    let u = seen.get(k);
    if (u === undefined) {
      u = unique.length;
      seen.set(k, u);
      unique.push(reps[i]);
    }
    expand[i] = u;
  }
  if (unique.length === reps.length) return { variables };
  return { variables: { ...variables, representations: unique }, expand };
}

/**
 * The identity of a representation. Most are flat (`{ __typename, id }`): their key is built from the
 * fields in order, each name and value prefixed with its length (so no value, whatever it holds, can
 * read as the start of another field), at a fraction of JSON.stringify's cost: this runs for every
 * entity occurrence of every request. A nested one (a composite key, a @requires object) takes
 * JSON.stringify after a `{`, which no flat key starts with.
 */
export function representationKey(rep: unknown): string {
  if (rep === null || typeof rep !== 'object') return `!${JSON.stringify(rep)}`;
  if (Array.isArray(rep)) return `{${JSON.stringify(rep)}`;
  let key = '';
  for (const field of Object.keys(rep)) {
    const v = (rep as Record<string, unknown>)[field];
    const value = typeof v === 'string' ? `s${v}` : typeof v === 'number' || typeof v === 'boolean' || v === null ? `v${String(v)}` : undefined;
    if (value === undefined) return `{${JSON.stringify(rep)}`;
    key += `${field.length}:${field}${value.length}:${value}`;
  }
  return key;
}

/**
 * A deep copy of a JSON value (an entity answer: plain objects, arrays and scalars). A `__proto__` key
 * (a client may alias a field so) is copied as a field of its own, as JSON.parse made it, never through
 * the prototype setter.
 */
export function cloneJson<T>(v: T): T {
  if (v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) return v.map(cloneJson) as T;
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(v)) {
    const copy = cloneJson((v as Record<string, unknown>)[k]);
    if (k === '__proto__') Object.defineProperty(out, k, { value: copy, enumerable: true, writable: true, configurable: true });
    else out[k] = copy;
  }
  return out as T;
}

export function expandEntities(answer: GatewayGraphQLResponse, expand: number[]): GatewayGraphQLResponse {
  const data = answer.data as { _entities?: unknown } | null | undefined;
  const got = data?._entities;
  if (data && Array.isArray(got)) {
    const used = new Set<number>();
    data._entities = expand.map((u) => {
      if (used.has(u)) return cloneJson(got[u]);
      used.add(u);
      return got[u];
    });
  }
  if (answer.errors?.length) {
    const errors = answer.errors.flatMap((err) => {
      const path = err.path;
      if (!path || path[0] !== '_entities' || typeof path[1] !== 'number') return [err];
      const out = [];
      for (let i = 0; i < expand.length; i++) if (expand[i] === path[1]) out.push({ ...err, path: ['_entities', i, ...path.slice(2)] });
      return out.length ? out : [err];
    });
    return { ...answer, errors } as GatewayGraphQLResponse;
  }
  return answer;
}
