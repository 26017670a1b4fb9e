import { createHash } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { composeServices } from '@apollo/composition';
import type { SupergraphManager as ApolloSupergraphManager, SupergraphSdlUpdateFunction } from '@apollo/gateway';
import { parse } from 'graphql';
import type { Logger, ServiceInstance, ServicesSnapshot } from '@dream/common';
import type { Pools } from './pools';
import type { UpstreamClient } from './upstream';

/** The part of DiscoveryClient the manager uses (a test can pass anything with this shape). */
export interface DiscoverySource {
  watch(onChange: (snap: ServicesSnapshot) => void): { stop(): Promise<void> };
}

export interface SupergraphManagerOptions {
  discovery: DiscoverySource;
  pools: Pools;
  upstream: UpstreamClient;
  logger: Logger;
  /** Delay before retrying an SDL fetch that failed (default 500 ms). */
  retryMs?: number;
  /** Subgraph names composed and routed to; others in discovery are ignored. Default: all. */
  allowedSubgraphs?: readonly string[];
}

interface SubgraphSdl {
  sdl: string;
  hash: string;
  /** sdlHash the instance we fetched from advertised, to skip refetching identical replicas. */
  advertised?: string;
}

const SDL_QUERY = JSON.stringify({ query: 'query __ServiceSdl { _service { sdl } }' });

/** A fixed, per-name routing URL: the data source routes by name through the pool, so instance churn never changes the supergraph. */
export const routingUrlFor = (name: string) => `http://${name}.subgraph.invalid/graphql`;

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

/**
 * Keeps the gateway's supergraph in step with discovery. Every snapshot refreshes the instance pools;
 * the SDL is fetched (`_service { sdl }`) only from instances not seen before (skipped when their
 * advertised sdlHash matches), and the supergraph is recomposed and pushed to the gateway only
 * when some subgraph's SDL really changed. A supergraph that fails to compose is refused (the
 * previous one stays) and the reason logged. While discovery is unreachable nothing changes: the
 * last good supergraph and the last known instances stay in use. A subgraph whose instances all
 * vanish keeps its SDL (its pool is empty, so its fields answer SERVICE_UNAVAILABLE instead of
 * disappearing from the schema).
 *
 * Events: 'composed' (supergraphSdl), 'rejected' (errors: string[]), 'snapshot' (ServicesSnapshot, the
 * configured subgraphs only), 'discovered' (ServicesSnapshot, every service, e.g. for announced routes).
 */
export class SupergraphManager extends EventEmitter {
  private sdls = new Map<string, SubgraphSdl>();
  /** Instance ids whose SDL is accounted for, per service. */
  private seen = new Map<string, Set<string>>();
  /** Hash of the last candidate set that failed to compose, so it is not retried on every snapshot. */
  private rejectedKey: string | undefined;
  private current: string | undefined;
  private update: SupergraphSdlUpdateFunction | undefined;
  private watcher: { stop(): Promise<void> } | undefined;
  private pending: ServicesSnapshot | undefined;
  private last: ServicesSnapshot | undefined;
  private running: Promise<void> | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private retryAttempt = 0;
  private stopped = false;

  constructor(private readonly opts: SupergraphManagerOptions) {
    super();
  }

  get supergraphSdl(): string | undefined {
    return this.current;
  }

  /** Subgraph names in the current supergraph. */
  get subgraphs(): string[] {
    return [...this.sdls.keys()];
  }

  /** The SDL of every subgraph in the current supergraph, by name. */
  get subgraphSdls(): Array<[string, string]> {
    return [...this.sdls].map(([name, s]) => [name, s.sdl]);
  }

  /** The last discovery snapshot received. */
  get snapshot(): ServicesSnapshot | undefined {
    return this.last;
  }

  start(): void {
    this.watcher = this.opts.discovery.watch((snap) => this.onSnapshot(snap));
  }

  /** Resolves with the first composed supergraph. */
  ready(): Promise<string> {
    if (this.current) return Promise.resolve(this.current);
    return new Promise((resolve) => this.once('composed', resolve));
  }

  /** The `supergraphSdl` option of ApolloGateway: starts from the current supergraph and gets `update`. */
  forGateway(): ApolloSupergraphManager {
    return {
      initialize: async ({ update }) => {
        this.update = update;
        const supergraphSdl = this.current ?? (await this.ready());
        return {
          supergraphSdl,
          cleanup: async () => {
            this.update = undefined;
          },
        };
      },
    };
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    await this.watcher?.stop();
    await this.running?.catch(() => undefined);
  }

  private readonly ignored = new Set<string>();

  /** Only the configured subgraph names: anything else registered in discovery is not part of the graph. */
  private allowed(snap: ServicesSnapshot): ServicesSnapshot {
    const allow = this.opts.allowedSubgraphs;
    if (!allow) return snap;
    const services: ServicesSnapshot['services'] = {};
    for (const [name, list] of Object.entries(snap.services)) {
      if (allow.includes(name)) services[name] = list;
      else if (!this.ignored.has(name)) {
        this.ignored.add(name);
        this.opts.logger.warn({ subgraph: name, allowed: allow }, 'ignoring a service that is not a configured subgraph (SUBGRAPHS)');
      }
    }
    return { ...snap, services };
  }

  private onSnapshot(raw: ServicesSnapshot): void {
    this.emit('discovered', raw);
    const snap = this.allowed(raw);
    this.last = snap;
    this.emit('snapshot', snap);
    // pools first and synchronously: instance churn takes effect at once
    const total = Object.values(snap.services).reduce((n, list) => n + list.length, 0);
    const known = this.opts.pools.entries().reduce((n, [, p]) => n + p.size, 0);
    if (total === 0 && known > 0) {
      // A discovery that lost its state (fresh Redis) reports nothing until services re-register;
      // emptying every pool would turn that into an outage. The breakers still guard dead instances.
      this.opts.logger.warn({ version: snap.version }, 'discovery reports no instances at all; keeping the last known ones');
      return;
    }
    const names = new Set(Object.keys(snap.services));
    for (const [name, instances] of Object.entries(snap.services)) this.opts.pools.get(name).setInstances(instances);
    for (const name of this.opts.pools.names()) if (!names.has(name)) this.opts.pools.get(name).setInstances([]);
    this.pending = snap;
    if (!this.running) this.running = this.drain();
  }

  /** Processes snapshots one at a time, always the newest, so composition never runs concurrently. */
  private async drain(): Promise<void> {
    try {
      while (this.pending && !this.stopped) {
        const snap = this.pending;
        this.pending = undefined;
        try {
          await this.refresh(snap);
        } catch (err) {
          this.opts.logger.error({ err }, 'supergraph refresh failed');
        }
      }
    } finally {
      this.running = undefined;
    }
  }

  private async refresh(snap: ServicesSnapshot): Promise<void> {
    const candidate = new Map(this.sdls);
    let incomplete = false;
    const newlySeen: Array<[string, string[]]> = [];
    for (const [name, instances] of Object.entries(snap.services)) {
      if (instances.length === 0) continue;
      const seen = this.seen.get(name) ?? new Set<string>();
      const fresh = instances.filter((i) => !seen.has(i.id));
      if (fresh.length === 0) continue;
      const known = candidate.get(name);
      // identical replicas advertise the same hash: no need to ask them
      if (known?.advertised && fresh.every((i) => i.sdlHash === known.advertised)) {
        newlySeen.push([name, fresh.map((i) => i.id)]);
        continue;
      }
      const got = await this.fetchSdl(name, fresh);
      if (!got) {
        incomplete = true;
        continue;
      }
      newlySeen.push([name, fresh.map((i) => i.id)]);
      if (known?.hash !== got.hash) candidate.set(name, got);
      else candidate.set(name, { ...known, advertised: got.advertised ?? known.advertised });
    }
    for (const [name, ids] of newlySeen) {
      const set = this.seen.get(name) ?? new Set<string>();
      ids.forEach((id) => set.add(id));
      this.seen.set(name, set);
    }
    // forget ids that left, so a re-registration under the same id is looked at again
    for (const [name, set] of this.seen) {
      const live = new Set((snap.services[name] ?? []).map((i) => i.id));
      for (const id of set) if (!live.has(id)) set.delete(id);
    }
    if (incomplete) this.scheduleRetry();
    else this.retryAttempt = 0;

    const changed =
      candidate.size !== this.sdls.size || [...candidate].some(([name, s]) => this.sdls.get(name)?.hash !== s.hash);
    if (!changed && this.current) {
      this.sdls = candidate; // advertised hashes may have been learned
      return;
    }
    if (candidate.size === 0) return;
    this.compose(candidate);
  }

  private compose(candidate: Map<string, SubgraphSdl>): void {
    const key = [...candidate].map(([n, s]) => `${n}:${s.hash}`).sort().join(',');
    if (key === this.rejectedKey) return;
    const services = [...candidate].map(([name, s]) => ({ name, url: routingUrlFor(name), typeDefs: parse(s.sdl) }));
    let result: ReturnType<typeof composeServices>;
    try {
      result = composeServices(services);
    } catch (err) {
      result = { errors: [err as never] };
    }
    if (result.errors) {
      this.rejectedKey = key;
      const errors = result.errors.map((e) => (e as Error).message);
      this.opts.logger.error(
        { subgraphs: [...candidate.keys()], errors },
        'refusing a supergraph that does not compose; keeping the previous one',
      );
      this.emit('rejected', errors);
      return;
    }
    const sdl = result.supergraphSdl;
    this.sdls = candidate;
    this.rejectedKey = undefined;
    if (sdl === this.current) return;
    this.current = sdl;
    this.opts.logger.info({ subgraphs: [...candidate.keys()], hash: sha256(sdl).slice(0, 12) }, 'supergraph composed');
    try {
      this.update?.(sdl);
    } catch (err) {
      this.opts.logger.error({ err }, 'gateway refused the new supergraph');
    }
    this.emit('composed', sdl);
  }

  /** `_service { sdl }` from the first of `instances` that answers. */
  private async fetchSdl(name: string, instances: ServiceInstance[]): Promise<SubgraphSdl | undefined> {
    // newest first: during a rolling deploy the new SDL is what matters
    for (const inst of [...instances].reverse()) {
      try {
        const { json } = await this.opts.upstream.postGraphQL(inst.url, SDL_QUERY, { 'content-type': 'application/json' });
        const sdl = (json.data as { _service?: { sdl?: unknown } } | undefined)?._service?.sdl;
        if (typeof sdl !== 'string' || !sdl.trim()) throw new Error('no _service.sdl in the answer');
        parse(sdl); // a syntax error is this instance's problem, not the supergraph's
        return { sdl, hash: sha256(sdl), advertised: inst.sdlHash };
      } catch (err) {
        this.opts.logger.warn({ service: name, instance: inst.id, url: inst.url, err: (err as Error).message }, 'could not fetch subgraph SDL');
      }
    }
    return undefined;
  }

  private scheduleRetry(): void {
    if (this.retryTimer || this.stopped) return;
    // backs off (500 ms → 10 s) so an instance that never answers its SDL is not hammered
    const wait = Math.min((this.opts.retryMs ?? 500) * 2 ** Math.min(this.retryAttempt++, 5), 10_000);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      if (this.stopped || !this.last) return;
      this.pending = this.pending ?? this.last;
      if (!this.running) this.running = this.drain();
    }, wait);
    this.retryTimer.unref();
  }
}
