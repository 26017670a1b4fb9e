import { spawn, type ChildProcess } from 'node:child_process';
import { createServer as createNetServer, type AddressInfo, type Socket } from 'node:net';
import { randomBytes } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { DiscoveryClient, JwtService, loadJwtKeys, type JwtKeys, type Registration, type Role } from '@dream/common';
import { Disposables, fetchBody, freePort, metricValue, startRedisServer, waitFor, type RedisServerHandle } from '@dream/common/testing';
import { loadDiscoveryConfig } from '../../../discovery/src/config';
import { startDiscovery, type DiscoveryHandle } from '../../../discovery/src/server';
import { loadCoursesConfig } from '../../../subgraphs/courses/src/config';
import { startCoursesSubgraph, type CoursesSubgraph } from '../../../subgraphs/courses/src/service';
import { loadMediaConfig } from '../../../subgraphs/media/src/config';
import { startMediaSubgraph, type MediaSubgraph } from '../../../subgraphs/media/src/service';
import { loadUsersConfig } from '../../../subgraphs/users/src/config';
import { startUsersSubgraph, type UsersSubgraph } from '../../../subgraphs/users/src/service';
import { loadGatewayConfig } from '../../../gateway/src/config';
import { startGateway, type Gateway } from '../../../gateway/src/server';

const LOG_LEVEL = process.env.TEST_LOG_LEVEL ?? 'silent';

export interface StackOptions {
  /** Extra environment for every subgraph replica (e.g. CACHE_ENABLED=false). */
  subgraphEnv?: Record<string, string>;
  /** Log level of every service (default TEST_LOG_LEVEL or silent). */
  logLevel?: string;
  /** Discovery lease TTL (default 10 s); short leases make a SIGKILLed instance leave the pools quickly. */
  discoveryTtlSeconds?: number;
}

type Subgraph = CoursesSubgraph | UsersSubgraph | MediaSubgraph;

export interface Replica {
  service: Subgraph;
  registration: Registration;
  port: number;
  url: string;
  stopped: boolean;
}

/** The repository root (packages/testenv/src → ../../..). */
export const REPO_ROOT = resolve(__dirname, '../../..');

/** A service running in its own Node process (so load measurements see its own CPU and memory). */
export interface ChildService {
  name: string;
  pid: number;
  port: number;
  /** http://127.0.0.1:PORT */
  base: string;
  proc: ChildProcess;
  /** Where its stdout/stderr go. */
  logFile: string;
  stop(): Promise<void>;
  /** SIGKILL (no deregistration, no graceful close), resolved once the process has exited. */
  kill(): Promise<void>;
  readonly exited: boolean;
}

export interface SpawnOptions {
  /** Extra node flags, e.g. ['--cpu-prof', '--cpu-prof-dir=…']. */
  nodeArgs?: string[];
  /** Path polled until it answers 2xx (default /health). */
  healthPath?: string;
  /** Readiness check instead of `healthPath` (true = ready). */
  ready?: (base: string) => Promise<boolean>;
  timeoutMs?: number;
}

export interface GqlResult {
  status: number;
  headers: Headers;
  body: { data?: Record<string, any> | null; errors?: Array<{ message: string; extensions?: Record<string, any> }> };
}

/**
 * Real parts on free ports: a private redis-server, discovery, users and courses subgraphs (all
 * courses replicas share one SQLite file) registered with discovery, and gateways fed by it.
 * The gateway tests and the benchmarks (bench/run.ts) both boot their topology with it.
 */
export class Stack {
  constructor(readonly options: StackOptions = {}) {}

  get logLevel(): string {
    return this.options.logLevel ?? LOG_LEVEL;
  }

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
  media: Replica[] = [];
  /** Service secrets every part of the stack shares, as in production (discovery and gRPC are authenticated). */
  readonly discoveryToken = randomBytes(24).toString('base64url');
  readonly serviceToken = randomBytes(24).toString('base64url');
  /** Every media replica signs and checks upload tickets and playback URLs with the same key. */
  readonly mediaSigningSecret = randomBytes(32).toString('base64url');

  async start(): Promise<this> {
    this.dir = mkdtempSync(join(tmpdir(), 'gateway-test-'));
    this.d.defer(() => rmSync(this.dir, { recursive: true, force: true }));
    this.redis = this.d.push(await startRedisServer(), (r) => r.stop());
    await this.startDiscovery();
    this.d.defer(() => this.discovery.stop());
    this.client = new DiscoveryClient({ discoveryUrl: `http://127.0.0.1:${this.discoveryPort}`, fetchTimeoutMs: 1000, token: this.discoveryToken });
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
        DISCOVERY_TTL_SECONDS: String(this.options.discoveryTtlSeconds ?? 10),
        DISCOVERY_SWEEP_MS: '200',
        DISCOVERY_TOKEN: this.discoveryToken,
        LOG_LEVEL: this.logLevel,
      }),
    );
    this.discoveryPort = this.discovery.port;
  }

  /** The environment a replica of `name` starts with (all replicas of a subgraph share one SQLite file). */
  subgraphEnv(name: string, port = 0, extra: Record<string, string> = {}): Record<string, string> {
    return {
      PORT: String(port),
      HOST: '127.0.0.1',
      DATABASE_URL: `sqlite:${join(this.dir, `${name}.db`)}`,
      REDIS_URL: this.redis.url,
      JWT_KEYS_DIR: join(this.dir, 'keys'),
      LOG_LEVEL: this.logLevel,
      DISCOVERY_TOKEN: this.discoveryToken,
      SERVICE_TOKEN: this.serviceToken,
      ...this.options.subgraphEnv,
      ...extra,
    };
  }

  /** A courses replica registered with discovery; `port` to come back on the same address. */
  async addCourses(port = 0, env: Record<string, string> = {}): Promise<Replica> {
    const service = await startCoursesSubgraph(loadCoursesConfig(this.subgraphEnv('courses', port, env)));
    const r = await this.register('courses', service);
    this.courses.push(r);
    return r;
  }

  async addUsers(env: Record<string, string> = {}): Promise<Replica> {
    const service = await startUsersSubgraph(loadUsersConfig(this.subgraphEnv('users', 0, env)));
    const r = await this.register('users', service);
    this.users.push(r);
    return r;
  }

  /**
   * A users subgraph that is not registered with discovery (stopped on dispose): the test decides what
   * reaches it, e.g. registers a recording proxy in front of it (startRecordingProxy).
   */
  async startUsers(env: Record<string, string> = {}): Promise<UsersSubgraph> {
    const service = await startUsersSubgraph(loadUsersConfig(this.subgraphEnv('users', 0, env)));
    this.d.defer(() => service.stop());
    return service;
  }

  /** A media API replica (GraphQL and the /media routes) sharing the stack's media folder; `env` needs COURSES_GRPC_URL. */
  async addMedia(env: Record<string, string> = {}): Promise<Replica> {
    const service = await startMediaSubgraph(
      loadMediaConfig(this.subgraphEnv('media', 0, { MEDIA_DIR: join(this.dir, 'media'), MEDIA_SIGNING_SECRET: this.mediaSigningSecret, ...env })),
    );
    const r = await this.register('media', service);
    this.media.push(r);
    return r;
  }

  private async register(name: string, service: Subgraph): Promise<Replica> {
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
        DISCOVERY_TOKEN: this.discoveryToken,
        LOG_LEVEL: this.logLevel,
        ...env,
      }),
    );
    this.d.push(gw, (g) => g.stop());
    return gw;
  }

  /**
   * Runs `script` (a .ts path relative to the repository root) in its own `node --import tsx` process
   * on a free port (env PORT), waits until `healthPath` answers 2xx, and stops it (SIGTERM, then
   * SIGKILL after 5 s) on dispose.
   */
  async spawn(name: string, script: string, env: Record<string, string>, opts: SpawnOptions = {}): Promise<ChildService> {
    const port = env.PORT && env.PORT !== '0' ? Number(env.PORT) : await freePort();
    return startProcess(this.d, {
      name,
      command: process.execPath,
      args: [...(opts.nodeArgs ?? []), '--import', 'tsx', resolve(REPO_ROOT, script)],
      env: { NODE_ENV: 'production', ...env, PORT: String(port) },
      logFile: join(this.dir, `${name}.log`),
      port,
      ...opts,
    });
  }

  /** A subgraph replica in its own process, announcing itself to discovery like `npm start` does. */
  spawnSubgraph(service: 'users' | 'courses', env: Record<string, string> = {}, opts: SpawnOptions = {}): Promise<ChildService> {
    const n = ++this.spawned;
    return this.spawn(
      `${service}-${n}`,
      `subgraphs/${service}/src/main.ts`,
      { ...this.subgraphEnv(service, 0, env), DISCOVERY_URL: this.discoveryUrl, ADVERTISE_HOST: '127.0.0.1' },
      opts,
    );
  }

  /** Our gateway in its own process, fed by this stack's discovery. */
  spawnGateway(env: Record<string, string> = {}, opts: SpawnOptions = {}): Promise<ChildService> {
    return this.spawn(
      `gateway-${++this.spawned}`,
      'gateway/src/main.ts',
      {
        HOST: '127.0.0.1',
        DISCOVERY_URL: this.discoveryUrl,
        REDIS_URL: this.redis.url,
        JWT_KEYS_DIR: join(this.dir, 'keys'),
        DISCOVERY_TOKEN: this.discoveryToken,
        LOG_LEVEL: this.logLevel === 'silent' ? 'warn' : this.logLevel,
        ...env,
      },
      { healthPath: '/ready', ...opts },
    );
  }

  private spawned = 0;

  token(roles: Role[] = ['STUDENT'], username = `u${Math.random().toString(36).slice(2, 8)}`): string {
    return this.jwt.sign({ id: `id-${username}`, username, roles });
  }

  stop(): Promise<void> {
    return this.d.disposeAll();
  }
}

export interface ProcessSpec extends SpawnOptions {
  name: string;
  command: string;
  args: string[];
  /** Added to this process's environment. */
  env: Record<string, string>;
  logFile: string;
  port: number;
  /** Address the health check and `base` use (default 127.0.0.1). */
  host?: string;
}

/**
 * Starts a process (stdout and stderr to `logFile`), waits until it is healthy (`ready`, or `healthPath`
 * answering 2xx on host:port), and stops it on dispose (SIGTERM, then SIGKILL after 5 s).
 */
export async function startProcess(d: Disposables, spec: ProcessSpec): Promise<ChildService> {
  const { name, port, logFile } = spec;
  const fd = openSync(logFile, 'a');
  const proc = spawn(spec.command, spec.args, {
    cwd: REPO_ROOT,
    env: { ...process.env, ...spec.env },
    stdio: ['ignore', fd, fd],
  });
  closeSync(fd);
  let exited = false;
  const exit = new Promise<void>((res) => proc.once('exit', () => ((exited = true), res())));
  const stop = async () => {
    if (exited) return;
    proc.kill('SIGTERM');
    const timer = setTimeout(() => proc.kill('SIGKILL'), 5000);
    await exit;
    clearTimeout(timer);
  };
  const kill = async () => {
    if (exited) return;
    proc.kill('SIGKILL');
    await exit;
  };
  const base = `http://${spec.host ?? '127.0.0.1'}:${port}`;
  const child: ChildService = {
    name,
    pid: proc.pid!,
    port,
    base,
    proc,
    logFile,
    stop,
    kill,
    get exited() {
      return exited;
    },
  };
  d.defer(stop);
  const healthPath = spec.healthPath ?? '/health';
  try {
    await waitFor(
      async () => {
        if (exited) throw new Error(`${name} exited before it was healthy (see ${logFile})`);
        if (spec.ready) return await spec.ready(base);
        const res = await fetch(`${base}${healthPath}`, { signal: AbortSignal.timeout(1000) }).catch(() => undefined);
        await res?.body?.cancel();
        return !!res && res.status >= 200 && res.status < 300;
      },
      { timeoutMs: spec.timeoutMs ?? 30_000, intervalMs: 100, what: `${name} healthy` },
    );
  } catch (err) {
    await stop();
    throw err;
  }
  return child;
}

/**
 * A TCP server that accepts connections and reads requests but never answers (a hung process: the
 * port is open, the event loop is stuck). `url` is shaped like a subgraph's GraphQL URL.
 */
export async function startHangingServer(): Promise<{ url: string; port: number; connections: number; stop(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = createNetServer((s) => {
    sockets.add(s);
    handle.connections++;
    s.on('error', () => undefined);
    s.on('close', () => sockets.delete(s));
    s.resume();
  });
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
  const port = (server.address() as AddressInfo).port;
  const handle = {
    url: `http://127.0.0.1:${port}/graphql`,
    port,
    connections: 0,
    stop: () =>
      new Promise<void>((res) => {
        for (const s of sockets) s.destroy();
        server.close(() => res());
      }),
  };
  return handle;
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

/** Status and body (JSON when it parses, else text such as /metrics). */
export const getJson = (url: string) => fetchBody(url);

/** The GraphQL requests a subgraph served, from its own /metrics (`base` = http://host:port). */
export async function servedAt(base: string): Promise<number> {
  const { status, body } = await getJson(`${base}/metrics`);
  if (status !== 200) throw new Error(`${base}/metrics answered ${status}`);
  return metricValue(String(body), 'subgraph_graphql_requests_total');
}

/** The replica's own count of GraphQL requests it served (from its /metrics). */
export function servedBy(r: Replica): Promise<number> {
  return servedAt(r.url.replace(/\/graphql$/, ''));
}

/** Waits until the gateway's pool for `service` lists exactly `n` instances. */
export function waitForPool(gw: Gateway, service: string, n: number, timeoutMs = 5000) {
  return waitFor(() => gw.pools.has(service) && gw.pools.get(service).size === n, { timeoutMs, what: `${service} pool of ${n}` });
}

export const breakerOf = (gw: Gateway, service: string, url: string) =>
  gw.pools.get(service).status().find((s) => s.url === url)?.state;
export * from './recording-proxy';
