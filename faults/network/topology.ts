import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createConnection } from 'node:net';
import { JwtService, loadJwtKeys } from '@dream/common';
import { Disposables, fetchBody, metricValue } from '@dream/common/testing';
import { REPO_ROOT, startProcess, type ChildService } from '@dream/testenv';
import { TestNet, type Host } from './netns';

const LOG_LEVEL = process.env.TEST_LOG_LEVEL ?? 'warn';

/** Ports inside each host's own namespace: every host has a private port space, so fixed ports cannot clash. */
export const PORTS = { redis: 6379, discovery: 8500, gateway: 8080, users: 4001, usersGrpc: 5001, courses: 4002, coursesGrpc: 5002 } as const;

/** True once `host:port` answers a Redis PING. */
export function redisPing(host: string, port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((res) => {
    const s = createConnection(port, host);
    const done = (ok: boolean) => (s.destroy(), res(ok));
    s.setTimeout(timeoutMs, () => done(false));
    s.on('error', () => done(false));
    s.on('connect', () => s.write('PING\r\n'));
    s.on('data', (d) => done(d.toString().startsWith('+PONG')));
  });
}

/**
 * The platform on private test hosts: Redis, discovery, the gateway, users and courses replicas each in
 * their own network namespace with their own address, started as real processes (`ip netns exec … node`).
 * The test process sits in the root namespace and reaches every host over the bridge.
 */
export class NetStack {
  readonly d = new Disposables();
  net!: TestNet;
  dir!: string;
  jwt!: JwtService;
  readonly procs = new Map<string, ChildService>();
  readonly hosts = new Map<string, Host>();
  /** The services run with NODE_ENV=production, which refuses to start without these; fresh per run. */
  readonly secrets = {
    DISCOVERY_TOKEN: randomBytes(24).toString('base64url'),
    SERVICE_TOKEN: randomBytes(24).toString('base64url'),
    STATUS_TOKEN: randomBytes(24).toString('base64url'),
  };

  async start(): Promise<this> {
    this.dir = mkdtempSync(join(tmpdir(), 'dream-net-'));
    this.d.defer(() => (process.env.KEEP_TEST_DIR ? console.warn(`logs kept in ${this.dir}`) : rmSync(this.dir, { recursive: true, force: true })));
    this.net = await TestNet.create();
    this.d.defer(() => this.net.destroy());
    this.jwt = new JwtService({ keys: loadJwtKeys({ JWT_KEYS_DIR: join(this.dir, 'keys') }) });
    return this;
  }

  async host(name: string): Promise<Host> {
    const existing = this.hosts.get(name);
    if (existing) return existing;
    const h = await this.net.addHost(name);
    this.hosts.set(name, h);
    return h;
  }

  get redisUrl(): string {
    return `redis://${this.hosts.get('redis')!.ip}:${PORTS.redis}`;
  }

  get discoveryUrl(): string {
    return `http://${this.hosts.get('discovery')!.ip}:${PORTS.discovery}`;
  }

  /** A process in `host`'s namespace, healthy before it resolves; stopped on dispose. */
  async run(
    host: Host,
    name: string,
    command: string,
    args: string[],
    env: Record<string, string>,
    opts: { port: number; healthPath?: string; ready?: (base: string) => Promise<boolean>; timeoutMs?: number },
  ): Promise<ChildService> {
    const wrapped = this.net.wrap(host, command, args);
    const child = await startProcess(this.d, {
      name,
      ...wrapped,
      env,
      logFile: join(this.dir, `${name}.log`),
      host: host.ip,
      timeoutMs: 60_000,
      ...opts,
    });
    this.procs.set(name, child);
    return child;
  }

  node(host: Host, name: string, script: string, env: Record<string, string>, opts: { port: number; healthPath?: string; ready?: (base: string) => Promise<boolean> }) {
    return this.run(host, name, process.execPath, ['--import', 'tsx', resolve(REPO_ROOT, script)], { NODE_ENV: 'production', LOG_LEVEL, ...this.secrets, ...env }, opts);
  }

  async redis(name = 'redis', extraArgs: string[] = []): Promise<ChildService> {
    const h = await this.host(name);
    return this.run(
      h,
      name,
      'redis-server',
      ['--bind', h.ip, '--port', String(PORTS.redis), '--save', '', '--appendonly', 'no', '--protected-mode', 'no', ...extraArgs],
      {},
      { port: PORTS.redis, ready: () => redisPing(h.ip, PORTS.redis) },
    );
  }

  async discovery(env: Record<string, string> = {}): Promise<ChildService> {
    const h = await this.host('discovery');
    return this.node(
      h,
      'discovery',
      'discovery/src/main.ts',
      { PORT: String(PORTS.discovery), HOST: h.ip, REDIS_URL: this.redisUrl, DISCOVERY_TTL_SECONDS: '3', DISCOVERY_SWEEP_MS: '200', ...env },
      { port: PORTS.discovery },
    );
  }

  /** A subgraph replica on its own host (all replicas of a service share one SQLite file). */
  async subgraph(service: 'users' | 'courses', name: string, env: Record<string, string> = {}): Promise<ChildService> {
    const h = await this.host(name);
    const port = service === 'users' ? PORTS.users : PORTS.courses;
    return this.node(
      h,
      name,
      `subgraphs/${service}/src/main.ts`,
      {
        PORT: String(port),
        GRPC_PORT: String(service === 'users' ? PORTS.usersGrpc : PORTS.coursesGrpc),
        HOST: h.ip,
        ADVERTISE_HOST: h.ip,
        DISCOVERY_URL: this.discoveryUrl,
        REDIS_URL: this.redisUrl,
        DATABASE_URL: `sqlite:${join(this.dir, `${service}.db`)}`,
        JWT_KEYS_DIR: join(this.dir, 'keys'),
        ...env,
      },
      { port },
    );
  }

  async gateway(env: Record<string, string> = {}): Promise<ChildService> {
    const h = await this.host('gateway');
    return this.node(
      h,
      'gateway',
      'gateway/src/main.ts',
      {
        PORT: String(PORTS.gateway),
        HOST: h.ip,
        DISCOVERY_URL: this.discoveryUrl,
        REDIS_URL: this.redisUrl,
        JWT_KEYS_DIR: join(this.dir, 'keys'),
        UPSTREAM_TIMEOUT_MS: '1000',
        BREAKER_COOLDOWN_MS: '1000',
        ACCESS_LOG: 'false',
        // one process: the scenarios read breakers and ejections from /ready, and with a worker per core
        // each worker keeps its own pools (the report would be whichever worker answered)
        GATEWAY_WORKERS: '1',
        ...env,
      },
      // the test reaches the gateway over the bridge, not loopback: /ready wants the status token
      { port: PORTS.gateway, ready: async (base) => (await this.status(`${base}/ready`)).status === 200 },
    );
  }

  /** The gateway's /ready report (pools, breakers, ejections). */
  async ready(): Promise<ReadyReport> {
    const gw = this.procs.get('gateway')!;
    return (await this.status(`${gw.base}/ready`)).body as ReadyReport;
  }

  /** A status route of the gateway (/ready, /metrics), with the status token. */
  status(url: string): ReturnType<typeof fetchBody> {
    return fetchBody(url, { headers: { authorization: `Bearer ${this.secrets.STATUS_TOKEN}` } });
  }

  /** The instance of `service` whose URL is on `host`, as the gateway's pool sees it. */
  async instanceOn(service: string, host: Host): Promise<ReadyInstance | undefined> {
    const r = await this.ready();
    return r.subgraphs?.[service]?.instances.find((i) => new URL(i.url).hostname === host.ip);
  }

  async stop(): Promise<void> {
    await this.d.disposeAll();
  }
}

export interface ReadyInstance {
  id: string;
  url: string;
  state: string;
  requests: number;
  latencyMs: number;
  ejectedUntil?: string;
}

export interface ReadyReport {
  status: string;
  subgraphs?: Record<string, { available: number; instances: ReadyInstance[] }>;
}

/** GraphQL requests a replica has served, from its own /metrics. */
export async function servedBy(c: ChildService): Promise<number> {
  const { body } = await fetchBody(`${c.base}/metrics`);
  const m = /^subgraph_graphql_requests_total (\d+)/m.exec(String(body));
  return m ? Number(m[1]) : 0;
}

/** Statements of a replica that found the database locked and waited (its db_lock_waits_total). */
export async function dbLockWaits(c: ChildService): Promise<number> {
  const { body } = await fetchBody(`${c.base}/metrics`);
  return metricValue(String(body), 'db_lock_waits_total');
}
