import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DiscoveryClient, JwtService, loadJwtKeys, type JwtKeys, type Registration, type Role } from '@dream/common';
import { Disposables, startRedisServer, waitFor, type RedisServerHandle } from '@dream/common/testing';
import { loadDiscoveryConfig } from '../../discovery/src/config';
import { startDiscovery, type DiscoveryHandle } from '../../discovery/src/server';
import { loadCoursesConfig } from '../../subgraphs/courses/src/config';
import { startCoursesSubgraph, type CoursesSubgraph } from '../../subgraphs/courses/src/server';
import { loadUsersConfig } from '../../subgraphs/users/src/config';
import { startUsersSubgraph, type UsersSubgraph } from '../../subgraphs/users/src/server';
import { loadGatewayConfig } from '../src/config';
import { startGateway, type Gateway } from '../src/server';

const LOG_LEVEL = process.env.TEST_LOG_LEVEL ?? 'silent';

export interface Replica {
  service: CoursesSubgraph | UsersSubgraph;
  registration: Registration;
  port: number;
  url: string;
  stopped: boolean;
}

export interface GqlResult {
  status: number;
  headers: Headers;
  body: { data?: Record<string, any> | null; errors?: Array<{ message: string; extensions?: Record<string, any> }> };
}

/**
 * Real parts on free ports: a private redis-server, discovery, users and courses subgraphs (all
 * courses replicas share one SQLite file) registered with discovery, and gateways fed by it.
 */
export class Stack {
  readonly d = new Disposables();
  dir!: string;
  redis!: RedisServerHandle;
  discovery!: DiscoveryHandle;
  discoveryPort = 0;
  client!: DiscoveryClient;
  keys!: JwtKeys;
  jwt!: JwtService;
  courses: Replica[] = [];
  users: Replica[] = [];

  async start(): Promise<this> {
    this.dir = mkdtempSync(join(tmpdir(), 'gateway-test-'));
    this.d.defer(() => rmSync(this.dir, { recursive: true, force: true }));
    this.redis = this.d.push(await startRedisServer(), (r) => r.stop());
    await this.startDiscovery();
    this.d.defer(() => this.discovery.stop());
    this.client = new DiscoveryClient({ discoveryUrl: `http://127.0.0.1:${this.discoveryPort}`, fetchTimeoutMs: 1000 });
    this.keys = loadJwtKeys({ JWT_KEYS_DIR: join(this.dir, 'keys') });
    this.jwt = new JwtService({ keys: this.keys });
    return this;
  }

  get discoveryUrl(): string {
    return `http://127.0.0.1:${this.discoveryPort}`;
  }

  /** (Re)starts discovery, on the same port after the first time. */
  async startDiscovery(): Promise<void> {
    this.discovery = await startDiscovery(
      loadDiscoveryConfig({
        PORT: String(this.discoveryPort),
        HOST: '127.0.0.1',
        REDIS_URL: this.redis.url,
        DISCOVERY_TTL_SECONDS: '10',
        DISCOVERY_SWEEP_MS: '200',
        LOG_LEVEL,
      }),
    );
    this.discoveryPort = this.discovery.port;
  }

  private subgraphEnv(name: string, port = 0) {
    return {
      PORT: String(port),
      HOST: '127.0.0.1',
      DATABASE_URL: `sqlite:${join(this.dir, `${name}.db`)}`,
      REDIS_URL: this.redis.url,
      JWT_KEYS_DIR: join(this.dir, 'keys'),
      LOG_LEVEL,
    };
  }

  /** A courses replica registered with discovery; `port` to come back on the same address. */
  async addCourses(port = 0): Promise<Replica> {
    const service = await startCoursesSubgraph(loadCoursesConfig(this.subgraphEnv('courses', port)));
    const r = await this.register('courses', service);
    this.courses.push(r);
    return r;
  }

  async addUsers(): Promise<Replica> {
    const service = await startUsersSubgraph(loadUsersConfig(this.subgraphEnv('users')));
    const r = await this.register('users', service);
    this.users.push(r);
    return r;
  }

  private async register(name: string, service: CoursesSubgraph | UsersSubgraph): Promise<Replica> {
    const registration = await this.client.register({ service: name, url: service.url }, { heartbeatMs: 500, retryMs: 100, maxRetryMs: 300 });
    const r: Replica = { service, registration, port: service.port, url: service.url, stopped: false };
    this.d.defer(async () => {
      await registration.deregister();
      if (!r.stopped) await service.stop();
    });
    return r;
  }

  /** Stops a replica's server but keeps its discovery lease, as a crashed-but-not-yet-expired instance. */
  async crash(r: Replica): Promise<void> {
    r.stopped = true;
    await r.service.stop();
  }

  /** Restarts a crashed courses replica on the same port (same URL and instance id). */
  async revive(r: Replica): Promise<void> {
    r.service = await startCoursesSubgraph(loadCoursesConfig(this.subgraphEnv('courses', r.port)));
    r.stopped = false;
    this.d.defer(async () => {
      if (!r.stopped) await r.service.stop();
    });
  }

  async gateway(env: Record<string, string> = {}): Promise<Gateway> {
    const gw = await startGateway(
      loadGatewayConfig({
        PORT: '0',
        HOST: '127.0.0.1',
        DISCOVERY_URL: this.discoveryUrl,
        REDIS_URL: this.redis.url,
        JWT_KEYS_DIR: join(this.dir, 'keys'),
        BREAKER_COOLDOWN_MS: '500',
        UPSTREAM_TIMEOUT_MS: '2000',
        LOG_LEVEL,
        ...env,
      }),
    );
    this.d.push(gw, (g) => g.stop());
    return gw;
  }

  token(roles: Role[] = ['STUDENT'], username = `u${Math.random().toString(36).slice(2, 8)}`): string {
    return this.jwt.sign({ id: `id-${username}`, username, roles });
  }

  stop(): Promise<void> {
    return this.d.disposeAll();
  }
}

export async function gql(
  gw: { url: string },
  query: string,
  opts: { variables?: Record<string, unknown>; headers?: Record<string, string> } = {},
): Promise<GqlResult> {
  const res = await fetch(`${gw.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...opts.headers },
    body: JSON.stringify({ query, variables: opts.variables }),
    signal: AbortSignal.timeout(15000),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: JSON.parse(text) };
}

export async function getJson(url: string): Promise<{ status: number; body: any }> {
  const res = await fetch(url, { signal: AbortSignal.timeout(10000) });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    /* metrics are text */
  }
  return { status: res.status, body };
}

/** The replica's own count of GraphQL requests it served (from its /metrics). */
export async function servedBy(r: Replica): Promise<number> {
  const base = r.url.replace(/\/graphql$/, '');
  const { body } = await getJson(`${base}/metrics`);
  const m = /^subgraph_graphql_requests_total (\d+)/m.exec(String(body));
  return m ? Number(m[1]) : 0;
}

/** Waits until the gateway's pool for `service` lists exactly `n` instances. */
export function waitForPool(gw: Gateway, service: string, n: number, timeoutMs = 5000) {
  return waitFor(() => gw.pools.has(service) && gw.pools.get(service).size === n, { timeoutMs, what: `${service} pool of ${n}` });
}

export const breakerOf = (gw: Gateway, service: string, url: string) =>
  gw.pools.get(service).status().find((s) => s.url === url)?.state;
