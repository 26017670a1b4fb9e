import { EventEmitter } from 'node:events';
import { request } from 'undici';
import type { Logger } from './logger';
import type { RouteAnnouncement } from './route-prefixes';

/** Every live instance grouped by service name; `version` grows with every change. */
export interface ServicesSnapshot {
  version: number;
  services: Record<string, ServiceInstance[]>;
}

/** What a service announces about itself. */
export interface InstanceInfo {
  service: string;
  /** GraphQL/HTTP base URL, e.g. http://10.0.0.5:4001/graphql */
  url: string;
  /** gRPC address (host:port or grpc://host:port) when the instance serves gRPC. */
  grpcUrl?: string;
  /** Hash of the instance's SDL, so the gateway recomposes only when it changes. */
  sdlHash?: string;
  /** Path prefixes the instance serves over plain HTTP through the gateway. */
  routes?: RouteAnnouncement[];
  meta?: Record<string, unknown>;
}

/** One live instance as discovery reports it: what it announced, plus discovery's own bookkeeping. */
export interface ServiceInstance extends InstanceInfo {
  id: string;
  /** ISO timestamps. */
  registeredAt: string;
  lastHeartbeat: string;
}

export interface DiscoveryClientOptions {
  /** e.g. http://127.0.0.1:8500 */
  discoveryUrl: string;
  logger?: Logger;
  /** Timeout of every non-long-poll call; default 2000 ms. */
  fetchTimeoutMs?: number;
  /** DISCOVERY_TOKEN, sent as `Authorization: Bearer …` on every call. */
  token?: string;
}

export interface RegisterOptions {
  /** Heartbeat period; default a third of the lease TTL discovery returns. */
  heartbeatMs?: number;
  /** First retry delay while discovery is unreachable (doubles up to maxRetryMs); default 200 ms. */
  retryMs?: number;
  /** Longest delay between registration retries; default 2000 ms. */
  maxRetryMs?: number;
  /**
   * The instance's own health check. While it fails the instance neither registers nor heartbeats,
   * so its lease expires and clients stop routing to it; it comes back by itself once healthy.
   */
  healthy?: () => Promise<boolean>;
}

export interface WatchOptions {
  /** How long discovery holds each long-poll; default 25000 ms. */
  pollTimeoutMs?: number;
  /** Longest delay between reconnects while discovery is down; default 1000 ms. */
  maxRetryMs?: number;
  /**
   * After discovery lost its state (its Redis restarted empty: the version went backwards), how long
   * instances of the last good snapshot that have not re-registered yet are still reported; default
   * 15000 ms (live instances re-register within a heartbeat, a third of the lease TTL).
   */
  stateLossGraceMs?: number;
}

/**
 * `next` plus every instance of `previous` whose URL is not in `next` (per service): what the
 * world most likely looks like while live instances are re-registering with a discovery that
 * forgot them. Dead ones among them are handled by the consumers' breakers.
 */
export function mergeForStateLoss(previous: ServicesSnapshot, next: ServicesSnapshot): ServicesSnapshot {
  const services: Record<string, ServiceInstance[]> = {};
  for (const name of new Set([...Object.keys(previous.services), ...Object.keys(next.services)])) {
    const fresh = next.services[name] ?? [];
    const urls = new Set(fresh.map((i) => i.url));
    services[name] = [...fresh, ...(previous.services[name] ?? []).filter((i) => !urls.has(i.url))];
  }
  return { version: next.version, services };
}

/**
 * A service's lease in discovery. It keeps itself alive (heartbeats, re-registers when discovery
 * says the lease expired, retries while discovery is down) until `deregister()`.
 * Events: 'registered' (id) each time a registration succeeds, 'lost' when a heartbeat learns the
 * lease had expired.
 */
export interface Registration extends EventEmitter {
  readonly info: InstanceInfo;
  /** The lease id once discovery accepted the registration at least once. */
  readonly id: string | undefined;
  /** True while discovery holds a live lease for this instance (as far as the client knows). */
  readonly registered: boolean;
  /** Stops heartbeats and removes the instance from discovery (best effort, bounded by the fetch timeout). */
  deregister(): Promise<void>;
}

export interface Watcher {
  /** The last snapshot received; kept while discovery is unreachable. */
  readonly snapshot: ServicesSnapshot | undefined;
  /** False from the first failed poll until the next successful one (for readiness reports). */
  readonly connected: boolean;
  /** Stops following the change feed and aborts the pending long-poll. */
  stop(): Promise<void>;
}

class HttpStatusError extends Error {
  constructor(readonly status: number, body: string) {
    super(`discovery answered ${status}: ${body.slice(0, 200)}`);
  }
}

const delay = (ms: number) => new Promise<void>((r) => setTimeout(r, ms).unref());

/** Client of the discovery service (see docs/discovery.md); one per process is enough. */
export class DiscoveryClient {
  readonly discoveryUrl: string;
  private readonly logger?: Logger;
  private readonly fetchTimeoutMs: number;

  private readonly auth: Record<string, string>;

  constructor({ discoveryUrl, logger, fetchTimeoutMs = 2000, token }: DiscoveryClientOptions) {
    this.auth = token ? { authorization: `Bearer ${token}` } : {};
    this.discoveryUrl = discoveryUrl.replace(/\/+$/, '');
    this.logger = logger;
    this.fetchTimeoutMs = fetchTimeoutMs;
  }

  /**
   * Registers `info` and keeps the lease alive. Resolves after the first attempt whether or not it
   * succeeded, so a service never waits for discovery to start serving; failures retry in the
   * background with backoff.
   */
  async register(info: InstanceInfo, opts: RegisterOptions = {}): Promise<Registration> {
    const reg = new Lease(this, info, opts, this.logger);
    await reg.start();
    return reg;
  }

  /** The current state of every service; throws when discovery is unreachable. */
  async list(): Promise<ServicesSnapshot> {
    return (await this.call('GET', '/v1/services')).json as ServicesSnapshot;
  }

  /**
   * Follows the change feed: `onChange` gets the first snapshot, then every snapshot whose version
   * differs from the last one. While discovery is down it reconnects with backoff and delivers
   * nothing, so the consumer keeps the last snapshot it has. When discovery comes back without its
   * state (version went backwards), instances that have not re-registered yet stay in the delivered
   * snapshots for `stateLossGraceMs`, so a half-repopulated registry never empties a pool.
   */
  watch(onChange: (snap: ServicesSnapshot) => void, opts: WatchOptions = {}): Watcher {
    const pollTimeoutMs = opts.pollTimeoutMs ?? 25000;
    const maxRetryMs = opts.maxRetryMs ?? 1000;
    const graceMs = opts.stateLossGraceMs ?? 15000;
    const ctrl = new AbortController();
    let snapshot: ServicesSnapshot | undefined;
    /** The last snapshot from before a state loss, while its grace period runs. */
    let carried: { snap: ServicesSnapshot; until: number; timer: NodeJS.Timeout } | undefined;
    let failures = 0;
    let connected = false;

    const deliver = (snap: ServicesSnapshot) => {
      try {
        onChange(snap);
      } catch (err) {
        this.logger?.error({ err }, 'discovery watch listener threw');
      }
    };
    const view = (next: ServicesSnapshot): ServicesSnapshot => {
      if (snapshot && next.version < snapshot.version) {
        // discovery forgot everything (fresh Redis): carry what we knew while services re-register
        const base = carried && Date.now() < carried.until ? carried.snap : snapshot;
        if (carried) clearTimeout(carried.timer);
        this.logger?.warn({ from: snapshot.version, to: next.version }, 'discovery lost its state; keeping known instances while they re-register');
        const timer = setTimeout(() => {
          carried = undefined;
          if (snapshot && !ctrl.signal.aborted) deliver(snapshot);
        }, graceMs);
        timer.unref?.();
        carried = { snap: base, until: Date.now() + graceMs, timer };
      }
      return carried ? mergeForStateLoss(carried.snap, next) : next;
    };

    const loop = async () => {
      while (!ctrl.signal.aborted) {
        try {
          const since = snapshot ? `?since=${snapshot.version}&timeoutMs=${pollTimeoutMs}` : '';
          const { json } = await this.call('GET', `/v1/watch${since}`, undefined, {
            timeoutMs: pollTimeoutMs + this.fetchTimeoutMs,
            signal: ctrl.signal,
          });
          const next = json as ServicesSnapshot;
          if (failures > 0) this.logger?.info('discovery watch reconnected');
          failures = 0;
          connected = true;
          if (!snapshot || next.version !== snapshot.version) {
            const shown = view(next);
            snapshot = next;
            deliver(shown);
          }
        } catch (err) {
          if (ctrl.signal.aborted) return;
          connected = false;
          if (failures === 0) this.logger?.warn({ err: (err as Error).message }, 'discovery watch failed; keeping last snapshot');
          failures++;
          await delay(Math.min(100 * 2 ** Math.min(failures - 1, 10), maxRetryMs));
        }
      }
    };
    const done = loop();
    return {
      get snapshot() {
        return snapshot;
      },
      get connected() {
        return connected;
      },
      stop: async () => {
        ctrl.abort();
        if (carried) clearTimeout(carried.timer);
        await done;
      },
    };
  }

  /** One HTTP call to discovery with a timeout; non-2xx answers throw HttpStatusError. */
  async call(
    method: 'GET' | 'POST' | 'PUT' | 'DELETE',
    path: string,
    body?: unknown,
    opts: { timeoutMs?: number; signal?: AbortSignal } = {},
  ): Promise<{ status: number; json: unknown }> {
    const timeout = AbortSignal.timeout(opts.timeoutMs ?? this.fetchTimeoutMs);
    const signal = opts.signal ? AbortSignal.any([opts.signal, timeout]) : timeout;
    const res = await request(`${this.discoveryUrl}${path}`, {
      method,
      signal,
      headers: body === undefined ? this.auth : { ...this.auth, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.body.text();
    if (res.statusCode < 200 || res.statusCode >= 300) throw new HttpStatusError(res.statusCode, text);
    return { status: res.statusCode, json: text ? JSON.parse(text) : undefined };
  }
}

/** The Registration implementation: a small state machine driven by timers. */
class Lease extends EventEmitter implements Registration {
  id: string | undefined;
  registered = false;
  private stopped = false;
  private timer: NodeJS.Timeout | undefined;
  private failures = 0;
  private heartbeatMs = 3000;
  private inflight: Promise<void> = Promise.resolve();

  constructor(
    private readonly client: DiscoveryClient,
    readonly info: InstanceInfo,
    private readonly opts: RegisterOptions,
    private readonly logger?: Logger,
  ) {
    super();
  }

  async start(): Promise<void> {
    await this.run(() => this.tryRegister());
  }

  /** Serializes network steps so a heartbeat never races a (re-)registration or deregister. */
  private run(step: () => Promise<void>): Promise<void> {
    this.inflight = this.inflight.then(step, step);
    return this.inflight;
  }

  private schedule(ms: number, step: () => Promise<void>): void {
    if (this.stopped) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.run(step), ms);
    this.timer.unref();
  }

  /** False (and logged once per episode) while the instance's own health check fails. */
  private unhealthy = false;
  private async healthyNow(): Promise<boolean> {
    if (!this.opts.healthy) return true;
    const ok = await this.opts.healthy().catch(() => false);
    if (!ok && !this.unhealthy) this.logger?.warn({ id: this.id }, 'own health check failing: not heartbeating until healthy again');
    if (ok && this.unhealthy) this.logger?.info({ id: this.id }, 'healthy again: heartbeating');
    this.unhealthy = !ok;
    return ok;
  }

  private async tryRegister(): Promise<void> {
    if (this.stopped) return;
    if (!(await this.healthyNow())) {
      this.schedule(Math.min(this.heartbeatMs, 1000), () => this.tryRegister());
      return;
    }
    try {
      const { json } = await this.client.call('POST', '/v1/instances', this.info);
      const { id, ttlSeconds } = json as { id: string; ttlSeconds: number };
      this.id = id;
      this.registered = true;
      this.failures = 0;
      this.heartbeatMs = this.opts.heartbeatMs ?? Math.max(100, Math.floor((ttlSeconds * 1000) / 3));
      this.logger?.info({ id, service: this.info.service, url: this.info.url }, 'registered with discovery');
      this.emit('registered', id);
      this.schedule(this.heartbeatMs, () => this.heartbeat());
    } catch (err) {
      this.registered = false;
      const wait = Math.min((this.opts.retryMs ?? 200) * 2 ** Math.min(this.failures, 10), this.opts.maxRetryMs ?? 2000);
      if (this.failures === 0) {
        this.logger?.warn({ err: (err as Error).message, retryInMs: wait }, 'discovery registration failed; retrying in the background');
      }
      this.failures++;
      this.schedule(wait, () => this.tryRegister());
    }
  }

  private async heartbeat(): Promise<void> {
    if (this.stopped || !this.id) return;
    if (!(await this.healthyNow())) {
      // no heartbeat: the lease runs out and discovery drops this instance; a later heartbeat learns it
      // expired (404) and registers again
      this.schedule(Math.min(this.heartbeatMs, 1000), () => this.heartbeat());
      return;
    }
    try {
      await this.client.call('PUT', `/v1/instances/${encodeURIComponent(this.id)}/heartbeat`);
      if (!this.registered) this.logger?.info('discovery heartbeat accepted again');
      this.registered = true;
      this.schedule(this.heartbeatMs, () => this.heartbeat());
    } catch (err) {
      if (err instanceof HttpStatusError && err.status === 404) {
        // Discovery forgot us (lease expired while we or it were away): register again now.
        this.registered = false;
        this.logger?.warn({ id: this.id }, 'discovery lease expired; re-registering');
        this.emit('lost');
        await this.tryRegister();
        return;
      }
      // Discovery unreachable: keep beating; the lease may still be alive when it returns.
      if (this.registered) this.logger?.warn({ err: (err as Error).message }, 'discovery heartbeat failed');
      this.registered = false;
      this.schedule(Math.min(this.heartbeatMs, 1000), () => this.heartbeat());
    }
  }

  async deregister(): Promise<void> {
    if (this.stopped) return this.inflight;
    this.stopped = true;
    clearTimeout(this.timer);
    await this.run(async () => {
      if (!this.id) return;
      try {
        await this.client.call('DELETE', `/v1/instances/${encodeURIComponent(this.id)}`);
        this.logger?.info({ id: this.id }, 'deregistered from discovery');
      } catch (err) {
        // Not fatal: the lease expires on its own within the TTL.
        this.logger?.warn({ err: (err as Error).message }, 'discovery deregistration failed');
      }
      this.registered = false;
    });
  }
}
