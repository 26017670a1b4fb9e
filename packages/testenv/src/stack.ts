import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { DiscoveryClient, JwtService, loadJwtKeys, type JwtKeys, type Role } from '@dream/common';
import { Disposables, freePort, startRedisServer, type RedisServerHandle } from '@dream/common/testing';
import { loadDiscoveryConfig } from '../../../discovery/src/config';
import { startDiscovery, type DiscoveryHandle } from '../../../discovery/src/server';
import { loadGatewayConfig } from '../../../gateway/src/config';
import { startGateway, type Gateway } from '../../../gateway/src/server';
import { REPO_ROOT, startProcess, type ChildService, type SpawnOptions } from './processes';
import { KNOWN_SUBGRAPHS, replicaOf, startMediaWorkerFrom, type KnownSubgraphs, type MediaWorker, type Replica, type RunningSubgraph, type SubgraphOptions, type SubgraphStarter } from './subgraphs';

const LOG_LEVEL = process.env.TEST_LOG_LEVEL ?? 'silent';

export interface StackOptions {
  /** Extra environment for every subgraph replica (e.g. CACHE_ENABLED=false). */
  subgraphEnv?: Record<string, string>;
  /** Log level of every service (default TEST_LOG_LEVEL or silent). */
  logLevel?: string;
  /** Discovery lease TTL (default 10 s); short leases make a SIGKILLed instance leave the pools quickly. */
  discoveryTtlSeconds?: number;
  /** Run discovery (default true); a subgraph tested on its own needs only Redis and its database. */
  discovery?: boolean;
  /**
   * Give replicas the service secrets (DISCOVERY_TOKEN, SERVICE_TOKEN) so discovery and gRPC calls are
   * authenticated as in production. Default: when discovery runs; a lone subgraph runs without them,
   * as in development, so its suites can call its gRPC services unsigned.
   */
  serviceAuth?: boolean;
}

/** A user the stack minted a token for (the subgraphs trust the signed id; it need not exist in users). */
export interface TestUser {
  id: string;
  username: string;
  roles: Role[];
  token: string;
}

/**
 * Real parts on free ports: a private redis-server, discovery, subgraph replicas (all replicas of a
 * subgraph share one SQLite file; media's also share one file folder and signing secret) registered with
 * discovery, media's transcoding worker (`mediaWorker`), and gateways fed by discovery, in-process or as
 * child processes. Everything it starts is stopped by one `stop()`; `useStack()` registers that with
 * the test framework so no suite writes its own teardown.
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
  courses: Replica<KnownSubgraphs['courses']>[] = [];
  users: Replica<KnownSubgraphs['users']>[] = [];
  media: Replica<KnownSubgraphs['media']>[] = [];
  /** Service secrets every part of the stack shares, as in production (discovery and gRPC are authenticated). */
  readonly discoveryToken = randomBytes(24).toString('base64url');
  readonly serviceToken = randomBytes(24).toString('base64url');
  /** Media's HMAC key, shared by its replicas and worker so each verifies the others' tickets and URLs. */
  readonly mediaSigningSecret = randomBytes(32).toString('base64url');
  private readonly starters = new Map<string, SubgraphStarter>(Object.entries(KNOWN_SUBGRAPHS));
  private spawned = 0;

  async start(): Promise<this> {
    this.dir = mkdtempSync(join(tmpdir(), 'stack-test-'));
    this.d.defer(() => rmSync(this.dir, { recursive: true, force: true }), 'temp dir');
    this.redis = this.d.push(await startRedisServer(), (r) => r.stop(), 'redis-server');
    if (this.options.discovery !== false) {
      await this.startDiscovery();
      this.d.defer(() => this.discovery.stop(), 'discovery');
      this.client = new DiscoveryClient({ discoveryUrl: this.discoveryUrl, fetchTimeoutMs: 1000, token: this.discoveryToken });
    }
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

  /** Makes another subgraph startable by name (`subgraph(name)`, `replicas(name, n)`). */
  service(name: string, start: SubgraphStarter): this {
    this.starters.set(name, start);
    return this;
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
      ...(this.options.serviceAuth ?? this.options.discovery !== false
        ? { DISCOVERY_TOKEN: this.discoveryToken, SERVICE_TOKEN: this.serviceToken }
        : {}),
      ...(name === 'media' ? this.mediaFiles() : {}),
      ...this.options.subgraphEnv,
      ...extra,
    };
  }

  /**
   * What every media replica and worker shares, as one volume and one secret in production: the stored
   * files, the tus upload folder (any replica can continue an upload) and the signing secret.
   */
  private mediaFiles(): Record<string, string> {
    return { MEDIA_DIR: join(this.dir, 'media'), MEDIA_UPLOAD_DIR: join(this.dir, 'uploads'), MEDIA_SIGNING_SECRET: this.mediaSigningSecret };
  }

  /** COURSES_GRPC_URL naming every courses replica started so far: how users and media reach courses without discovery. */
  coursesGrpc(): { COURSES_GRPC_URL: string } {
    if (!this.courses.length) throw new Error('no courses replica yet: start one with stack.subgraph(\'courses\') first');
    return { COURSES_GRPC_URL: this.courses.map((c) => `127.0.0.1:${c.service.grpcPort}`).join(',') };
  }

  /** One in-process replica of a subgraph, registered with discovery unless `register: false`. */
  subgraph<N extends keyof KnownSubgraphs>(name: N, opts?: SubgraphOptions): Promise<Replica<KnownSubgraphs[N]>>;
  subgraph(name: string, opts?: SubgraphOptions): Promise<Replica<RunningSubgraph>>;
  async subgraph(name: string, opts: SubgraphOptions = {}): Promise<Replica<RunningSubgraph>> {
    const start = this.starters.get(name);
    if (!start) throw new Error(`the stack does not know how to start "${name}" (add it with stack.service(name, start))`);
    const env = this.subgraphEnv(name, opts.port ?? 0, { ...(opts.discover ? { DISCOVERY_URL: this.discoveryUrl } : {}), ...opts.env });
    const r = replicaOf(name, await start(env), env);
    this.d.defer(async () => {
      if (!r.stopped) await r.service.stop();
    }, `${name} replica ${r.url}`);
    if (opts.register ?? this.options.discovery !== false) {
      const grpcUrl = opts.grpc ? `127.0.0.1:${r.service.grpcPort}` : undefined;
      r.registration = await this.client.register({ service: name, url: r.url, grpcUrl }, { heartbeatMs: 500, retryMs: 100, maxRetryMs: 300 });
      this.d.defer(() => r.registration?.deregister(), `${name} registration ${r.url}`);
    }
    this.listOf(name)?.push(r as never);
    return r;
  }

  /** `n` replicas of a subgraph sharing its database file and Redis, as containers behind the gateway. */
  async replicas(name: string, n: number, opts: SubgraphOptions = {}): Promise<Replica<RunningSubgraph>[]> {
    const started: Replica<RunningSubgraph>[] = [];
    for (let i = 0; i < n; i++) started.push(await this.subgraph(name, opts));
    return started;
  }

  private listOf(name: string): Replica<RunningSubgraph>[] | undefined {
    if (name === 'courses') return this.courses;
    if (name === 'users') return this.users;
    if (name === 'media') return this.media;
    return undefined;
  }

  /**
   * Media's transcoding worker (MEDIA_ROLE=worker, in this process): it takes the jobs uploads queue and
   * turns them into READY lessons, sharing the media replicas' database, Redis, files and signing secret
   * (`subgraphEnv('media')`). Like media it reaches courses with `COURSES_GRPC_URL` in `env`, or through
   * discovery with `discover`. Stopped with the stack; `stop()` it earlier to play a worker going away.
   */
  async mediaWorker(opts: Pick<SubgraphOptions, 'env' | 'discover'> = {}): Promise<MediaWorker> {
    const env = this.subgraphEnv('media', 0, { ...(opts.discover ? { DISCOVERY_URL: this.discoveryUrl } : {}), ...opts.env });
    const worker = await startMediaWorkerFrom(env);
    let stopped: Promise<void> | undefined;
    const stop = () => (stopped ??= worker.stop());
    this.d.defer(stop, 'media transcoding worker');
    return { ...worker, stop };
  }

  /** A registered courses replica; `port` to come back on the same address. */
  addCourses(port = 0, env: Record<string, string> = {}): Promise<Replica<KnownSubgraphs['courses']>> {
    return this.subgraph('courses', { port, env });
  }

  addUsers(env: Record<string, string> = {}): Promise<Replica<KnownSubgraphs['users']>> {
    return this.subgraph('users', { env });
  }

  /**
   * A users subgraph that is not registered with discovery: the test decides what reaches it, e.g.
   * registers a recording proxy in front of it (startRecordingProxy).
   */
  async startUsers(env: Record<string, string> = {}): Promise<KnownSubgraphs['users']> {
    return (await this.subgraph('users', { env, register: false })).service;
  }

  /** Stops a replica's server but keeps its discovery lease, as a crashed-but-not-yet-expired instance. */
  async crash(r: Replica<RunningSubgraph>): Promise<void> {
    r.stopped = true;
    await r.service.stop();
  }

  /** Restarts a crashed replica on the same port (same URL and instance id). */
  async revive(r: Replica<RunningSubgraph>): Promise<void> {
    const start = this.starters.get(r.name)!;
    r.service = await start(this.subgraphEnv(r.name, r.port));
    r.stopped = false;
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
    return this.d.push(gw, (g) => g.stop(), `gateway ${gw.url}`);
  }

  /**
   * Runs `script` (a .ts path relative to the repository root) in its own `node --import tsx` process
   * on a free port (env PORT), waits until `healthPath` answers 2xx, and stops it (SIGTERM, then
   * SIGKILL after 5 s) on stop().
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
  spawnSubgraph(service: string, env: Record<string, string> = {}, opts: SpawnOptions = {}): Promise<ChildService> {
    const n = ++this.spawned;
    return this.spawn(
      `${service}-${n}`,
      `subgraphs/${service}/src/main.ts`,
      { ...this.subgraphEnv(service, 0, env), DISCOVERY_URL: this.discoveryUrl, ADVERTISE_HOST: '127.0.0.1' },
      opts,
    );
  }

  /**
   * Our gateway in its own process, fed by this stack's discovery. `script` runs another checkout's
   * gateway (an absolute path to its main.ts) against the same topology, for A/B measurements. One
   * process unless `env` sets GATEWAY_WORKERS.
   */
  spawnGateway(env: Record<string, string> = {}, opts: SpawnOptions & { script?: string } = {}): Promise<ChildService> {
    const { script = 'gateway/src/main.ts', ...spawnOpts } = opts;
    return this.spawn(
      `gateway-${++this.spawned}`,
      script,
      {
        HOST: '127.0.0.1',
        GATEWAY_WORKERS: '1',
        DISCOVERY_URL: this.discoveryUrl,
        REDIS_URL: this.redis.url,
        JWT_KEYS_DIR: join(this.dir, 'keys'),
        DISCOVERY_TOKEN: this.discoveryToken,
        LOG_LEVEL: this.logLevel === 'silent' ? 'warn' : this.logLevel,
        ...env,
      },
      { healthPath: '/ready', ...spawnOpts },
    );
  }

  token(roles: Role[] = ['STUDENT'], username = `u${Math.random().toString(36).slice(2, 8)}`): string {
    return this.jwt.sign({ id: `id-${username}`, username, roles });
  }

  /** A token for a fresh user id. */
  user(roles: Role[], username = `user${++this.minted}`): TestUser {
    const id = randomUUID();
    return { id, username, roles, token: this.jwt.sign({ id, username, roles }) };
  }

  private minted = 0;

  /** Stops everything the stack started, newest first; resolves to the parts whose teardown failed. */
  stop(): Promise<string[]> {
    return this.d.disposeAll();
  }
}

/**
 * A stack for the enclosing `describe` (or file): started in beforeAll, stopped in afterAll — the one
 * registration that disposes every process, server and Redis the suite starts through it.
 */
export function useStack(options: StackOptions = {}): Stack {
  const stack = new Stack(options);
  beforeAll(() => stack.start());
  afterAll(() => stack.stop());
  return stack;
}
