/**
 * `npm start`: the whole platform on one machine. A private redis-server (unless REDIS_URL is set),
 * discovery, USERS_REPLICAS users, COURSES_REPLICAS courses and MEDIA_REPLICAS media subgraph replicas on free ports, then
 * the gateway. Prints the URLs once everything is healthy; Ctrl-C / SIGTERM stops every child.
 * On a terminal the services' JSON logs are shown as short coloured lines (scripts/log-view.ts).
 */
import { randomBytes } from 'node:crypto';
import { spawn, type ChildProcess } from 'node:child_process';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { createLogger, flag, loadConfig, loadJwtKeys, port, positiveInt } from '@dream/common';
import { redisServerAvailable, startRedisServer, waitFor, type RedisServerHandle } from '@dream/common/testing';
import { demoLines, readDemoData, seedDecision, seedDemo, seedDemoVideoLesson } from './demo-seed';
import { chooseLogFormat, LogView } from './log-view';
import { ensureWebBuild } from './web-build';

const root = resolve(__dirname, '..');

const config = loadConfig('launcher', {
  LOG_FORMAT: z.enum(['pretty', 'json']).optional(),
  // the gateway logs every request by default (compose, production); here only failures
  ACCESS_LOG: z.enum(['1', '0', 'true', 'false', 'yes', 'no']).default('false'),
  // the gateway's entity cache, and with it the stale fallback while every replica of a subgraph is down
  ENTITY_CACHE: z.enum(['1', '0', 'true', 'false', 'yes', 'no']).default('true'),
  REDIS_URL: z.string().url().optional(),
  GATEWAY_PORT: port(8080),
  DISCOVERY_PORT: port(8500),
  USERS_REPLICAS: positiveInt(2),
  COURSES_REPLICAS: positiveInt(2),
  MEDIA_REPLICAS: positiveInt(1),
  JWT_KEYS_DIR: z.string().default(join(root, 'data', 'keys')),
  DATA_DIR: z.string().default(join(root, 'data')),
  START_TIMEOUT_MS: positiveInt(90_000),
  SEED_DEMO: flag(true),
  NODE_ENV: z.string().optional(),
});

const serviceNames = [
  'launcher',
  'discovery',
  ...Array.from({ length: config.USERS_REPLICAS }, (_, i) => `users-${i + 1}`),
  ...Array.from({ length: config.COURSES_REPLICAS }, (_, i) => `courses-${i + 1}`),
  ...Array.from({ length: config.MEDIA_REPLICAS }, (_, i) => `media-${i + 1}`),
  'media-worker',
  'gateway',
];
/** Set when the logs are shown pretty; undefined: every process writes its JSON lines straight to stdout. */
const view =
  chooseLogFormat(config.LOG_FORMAT, process.stdout) === 'pretty'
    ? new LogView(process.stdout, { names: serviceNames, colour: process.stdout.hasColors?.() ?? false })
    : undefined;
const log = createLogger('launcher', view ? { destination: view.sink('launcher') } : {});

interface Child {
  name: string;
  proc: ChildProcess;
  /** Resolves when its output streams are closed: everything it wrote has been shown. */
  closed: Promise<void>;
}
const children: Child[] = [];
let redis: RedisServerHandle | undefined;
/** The private redis-server while it starts, so a signal in that window still stops it. */
let redisStarting: Promise<RedisServerHandle> | undefined;
let stopping = false;
/** Set once everything is healthy: before that, any child that exits means the start failed. */
let up = false;

function spawnService(name: string, workspace: string, env: Record<string, string>): Child {
  // A signal during start-up: shutdown() has already taken its list of children, so a child spawned
  // now would never be stopped and would outlive the launcher.
  if (stopping) throw new Error(`not starting ${name}: the launcher is stopping`);
  // One process per service (node with tsx's loader), not the tsx CLI: the CLI is a parent process that
  // turns a quick second signal into SIGKILL, which would cut the service's deregistration short.
  const proc = spawn(process.execPath, ['--import', 'tsx', join(root, workspace, 'src', 'main.ts')], {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ['ignore', view ? 'pipe' : 'inherit', view ? 'pipe' : 'inherit'],
  });
  if (view && proc.stdout && proc.stderr) {
    view.follow(name, proc.stdout);
    view.follow(name, proc.stderr);
  }
  const child = { name, proc, closed: new Promise<void>((done) => proc.once('close', () => done())) };
  children.push(child);
  proc.on('exit', (code, signal) => {
    if (stopping) return;
    log.error({ service: name, code, signal }, `${name} exited unexpectedly`);
    // During start-up a crashed child fails the start at once (rather than after START_TIMEOUT_MS of
    // waiting for it to register); afterwards a subgraph replica may die while the others serve.
    if (!up || name === 'gateway' || name === 'discovery') void shutdown(1);
  });
  return child;
}

async function httpOk(url: string): Promise<boolean> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
    return res.ok;
  } catch {
    return false;
  }
}

async function instanceCount(discoveryUrl: string, service: string, token: string): Promise<number> {
  const res = await fetch(`${discoveryUrl}/v1/services/${service}`, { headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(1000) });
  if (!res.ok) return 0;
  const body = (await res.json()) as { instances?: unknown[] };
  return body.instances?.length ?? 0;
}

async function shutdown(code: number): Promise<void> {
  if (stopping) return;
  stopping = true;
  log.info('stopping every service');
  // Gateway first so clients stop coming, then subgraphs (they deregister), then discovery and Redis.
  for (const c of [...children].reverse()) {
    if (c.proc.exitCode !== null || c.proc.signalCode !== null) continue;
    await new Promise<void>((done) => {
      const t = setTimeout(() => c.proc.kill('SIGKILL'), 5000);
      c.proc.once('exit', () => {
        clearTimeout(t);
        done();
      });
      c.proc.kill('SIGTERM');
    });
  }
  // a child's last log lines can still be in its pipe after it exited; show them before leaving
  await Promise.race([Promise.all(children.map((c) => c.closed)), new Promise((done) => setTimeout(done, 2000).unref())]);
  if (!redis && redisStarting) redis = await redisStarting.catch(() => undefined);
  await redis?.stop();
  process.exit(code);
}

async function main(): Promise<void> {
  process.on('SIGINT', () => void shutdown(0));
  process.on('SIGTERM', () => void shutdown(0));
  const timeoutMs = config.START_TIMEOUT_MS;
  await ensureWebBuild(root, log);

  let redisUrl = config.REDIS_URL;
  // With REDIS_SENTINELS (and REDIS_MASTER_NAME) in the environment the services find Redis through them.
  const sentinels = !!process.env.REDIS_SENTINELS;
  if (!redisUrl && !sentinels) {
    if (!redisServerAvailable()) {
      log.fatal('REDIS_URL is not set and redis-server is not installed: `apt-get install -y redis-server` or set REDIS_URL.');
      process.exit(1);
    }
    redisStarting = startRedisServer();
    redis = await redisStarting;
    redisUrl = redis.url;
    log.info({ redisUrl }, 'started a private redis-server');
  }

  // Decided before the subgraphs create their database files in the data folder.
  const seed = seedDecision({
    seedDemo: config.SEED_DEMO,
    nodeEnv: config.NODE_ENV,
    dataDir: config.DATA_DIR,
    externalDatabase: Boolean(process.env.USERS_DATABASE_URL || process.env.COURSES_DATABASE_URL),
  });
  if (!seed.seed) log.debug({ reason: seed.reason }, 'no demo data seeded');

  // Generate the development key pair once, before replicas race to create it.
  loadJwtKeys({ ...process.env, JWT_KEYS_DIR: config.JWT_KEYS_DIR }, log);

  const discoveryUrl = `http://127.0.0.1:${config.DISCOVERY_PORT}`;
  // Service secrets: the environment's, or fresh ones for this run (every child gets the same), so
  // discovery and gRPC are authenticated under `npm start` as in production.
  const secrets = {
    DISCOVERY_TOKEN: process.env.DISCOVERY_TOKEN || randomBytes(24).toString('base64url'),
    SERVICE_TOKEN: process.env.SERVICE_TOKEN || randomBytes(24).toString('base64url'),
    // media's upload tickets and playback URLs (required under NODE_ENV=production like the others)
    MEDIA_SIGNING_SECRET: process.env.MEDIA_SIGNING_SECRET || randomBytes(32).toString('base64url'),
  };
  const common = {
    ...secrets,
    ...(redisUrl ? { REDIS_URL: redisUrl } : {}),
    DISCOVERY_URL: discoveryUrl,
    JWT_KEYS_DIR: config.JWT_KEYS_DIR,
    ADVERTISE_HOST: process.env.ADVERTISE_HOST ?? '127.0.0.1',
  };
  // Discovery and the subgraphs are internal: even with DISCOVERY_TOKEN and SERVICE_TOKEN, nothing outside
  // this machine needs to reach them. Everything here talks to them over 127.0.0.1, so they (advertised
  // as 127.0.0.1) listen on loopback only; only the gateway is public.
  // An ADVERTISE_HOST that is not loopback (replicas reached from other hosts) or an explicit HOST keeps
  // the services' own default (all interfaces).
  const internalHost = process.env.HOST ?? (/^(127\.|localhost$|::1$)/.test(common.ADVERTISE_HOST) ? '127.0.0.1' : undefined);
  const internal: Record<string, string> = internalHost ? { HOST: internalHost } : {};
  spawnService('discovery', 'discovery', { ...common, ...internal, PORT: String(config.DISCOVERY_PORT) });
  await waitFor(() => httpOk(`${discoveryUrl}/health`), { timeoutMs, what: 'discovery /health' });

  const replicas: Array<[string, string, number]> = [
    ['users', 'subgraphs/users', config.USERS_REPLICAS],
    ['courses', 'subgraphs/courses', config.COURSES_REPLICAS],
    // after courses: media asks courses who owns and attends a course
    ['media', 'subgraphs/media', config.MEDIA_REPLICAS],
  ];
  for (const [service, workspace, count] of replicas) {
    const env = {
      ...common,
      ...internal,
      PORT: '0',
      GRPC_PORT: '0',
      DATABASE_URL: process.env[`${service.toUpperCase()}_DATABASE_URL`] ?? `sqlite:${join(config.DATA_DIR, `${service}.db`)}`,
      // media replicas and the worker share one file store and one upload folder
      ...(service === 'media' ? { MEDIA_DIR: join(config.DATA_DIR, 'media'), MEDIA_UPLOAD_DIR: join(config.DATA_DIR, 'uploads') } : {}),
    };
    // The first replica runs the migrations alone; the others start once it is registered.
    spawnService(`${service}-1`, workspace, env);
    await waitFor(async () => (await instanceCount(discoveryUrl, service, secrets.DISCOVERY_TOKEN)) >= 1, { timeoutMs, what: `${service}-1 registered` });
    for (let i = 2; i <= count; i++) spawnService(`${service}-${i}`, workspace, env);
    await waitFor(async () => (await instanceCount(discoveryUrl, service, secrets.DISCOVERY_TOKEN)) >= count, { timeoutMs, what: `${count} ${service} replicas registered` });
    // the transcoding worker: same configuration as the replicas, its own process (it serves no HTTP)
    if (service === 'media') spawnService('media-worker', workspace, { ...env, MEDIA_ROLE: 'worker' });
  }

  const gatewayUrl = `http://127.0.0.1:${config.GATEWAY_PORT}`;
  const subgraphs = replicas.map(([service]) => service).join(',');
  spawnService('gateway', 'gateway', { ...common, PORT: String(config.GATEWAY_PORT), ACCESS_LOG: config.ACCESS_LOG, ENTITY_CACHE: config.ENTITY_CACHE, SUBGRAPHS: subgraphs });
  // /health answers 500 (logged as a failure) until the supergraph is composed: poll it gently
  await waitFor(() => httpOk(`${gatewayUrl}/health`), { timeoutMs, intervalMs: 500, what: 'gateway /health' });

  let demo = readDemoData(config.DATA_DIR);
  if (seed.seed) {
    try {
      demo = await seedDemo(gatewayUrl, config.DATA_DIR);
      log.info({ courses: demo.courses.length }, 'seeded the demo catalogue');
    } catch (err) {
      // the platform is up and usable; only the demo catalogue is missing
      log.error({ err: (err as Error).message }, 'demo data could not be seeded (delete the data folder to try again)');
    }
    if (demo) {
      try {
        // a few seconds of video made and uploaded now; the worker transcodes it after start-up
        demo = await seedDemoVideoLesson(gatewayUrl, config.DATA_DIR, demo, process.env.FFMPEG_PATH);
        log.info({ lessonId: demo.lesson?.id }, 'uploaded the demo lesson video (the media worker transcodes it)');
      } catch (err) {
        // the catalogue is there; only its video lesson is missing (ffmpeg not installed, for one)
        log.warn({ err: (err as Error).message }, 'the demo lesson could not be seeded');
      }
    }
  }

  const lines = [
    '',
    'Dream and Study is up:',
    `  web app                         ${gatewayUrl}/`,
    `  GraphQL (Sandbox in a browser)  ${gatewayUrl}/graphql`,
    `  GraphiQL (works offline)        ${gatewayUrl}/graphiql`,
    `  graphql-ws subscriptions        ${gatewayUrl.replace('http', 'ws')}/graphql`,
    `  REST                            ${gatewayUrl}/api/...`,
    `  gateway status                  ${gatewayUrl}/health  ${gatewayUrl}/ready  ${gatewayUrl}/metrics`,
    `  discovery                       ${discoveryUrl}/v1/services  ${discoveryUrl}/health`,
    `  redis                           ${redisUrl ?? `sentinels ${process.env.REDIS_SENTINELS} (${process.env.REDIS_MASTER_NAME})`}`,
    `  replicas                        users x${config.USERS_REPLICAS}, courses x${config.COURSES_REPLICAS}, media x${config.MEDIA_REPLICAS}`,
    ...(demo ? ['', ...demoLines(demo)] : []),
    'Press Ctrl-C to stop.',
    '',
  ];
  up = true;
  process.stdout.write(lines.join('\n'));
}

main().catch((err: Error) => {
  if (stopping) return;
  log.fatal({ err: err.message }, 'start failed');
  void shutdown(1);
});
