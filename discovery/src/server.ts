import type { IncomingMessage, ServerResponse } from 'node:http';
import { EventEmitter } from 'node:events';
import { AppError, checkSecrets, extractToken, secretMatches, createLogger, createRedis, type Logger } from '@dream/common';
import { readJson, Router, sendJson, startHttpService, type RequestContext } from '@dream/common/http';
import { type DiscoveryConfig, requiredSecrets } from './config';
import { CHANGED_CHANNEL, Registry } from './registry';
import { parseRegistration, SERVICE_NAME } from './validation';

export interface DiscoveryHandle {
  url: string;
  port: number;
  stop(): Promise<void>;
}

const BODY_LIMIT = 16 * 1024;
const DEFAULT_WATCH_TIMEOUT_MS = 25000;
const MAX_WATCH_TIMEOUT_MS = 60000;
const HEALTH_TIMEOUT_MS = 1500;
const ID = /^[A-Za-z0-9_-]{1,64}$/;

/** Resolves to a value or rejects with `message` after `ms`. */
function withTimeout<T>(p: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  return Promise.race([p, expired]).finally(() => clearTimeout(timer));
}

function intParam(v: string | null, name: string, min: number, max: number): number | undefined {
  if (v === null || v === '') return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new AppError('BAD_USER_INPUT', `${name} must be an integer between ${min} and ${max}.`, {
      fields: [{ field: name, message: 'out of range' }],
    });
  }
  return n;
}

/**
 * Starts the discovery HTTP API (see docs/discovery.md). State lives in Redis, so this process can
 * restart or run next to another one; each process sweeps expired leases every DISCOVERY_SWEEP_MS
 * and wakes its long-polling watchers on the `discovery:changed` channel (or, as a backstop when a
 * pub/sub message was lost, when its sweep sees the version move).
 */
export async function startDiscovery(config: DiscoveryConfig, logger?: Logger): Promise<DiscoveryHandle> {
  const log = logger ?? createLogger('discovery', { level: config.LOG_LEVEL });
  checkSecrets('discovery', config, requiredSecrets(), log);
  const redis = createRedis(config.REDIS_URL, log);
  const sub = createRedis(config.REDIS_URL, log, { commandTimeout: undefined });
  const registry = new Registry(redis, config.DISCOVERY_TTL_SECONDS);

  // Local fan-out of "the version changed" to waiting watchers.
  const changes = new EventEmitter();
  changes.setMaxListeners(0);
  let lastVersion = -1;
  const noteVersion = (v: number) => {
    if (!Number.isFinite(v) || v === lastVersion) return;
    lastVersion = v;
    changes.emit('change', v);
  };

  sub.on('message', (_channel: string, message: string) => noteVersion(Number(message)));
  // Subscribe on every (re)connect: the first SUBSCRIBE may have failed while Redis was down.
  const subscribe = () => sub.subscribe(CHANGED_CHANNEL).catch(() => undefined);
  sub.on('ready', subscribe);

  let sweepFailing = false;
  const sweep = async () => {
    try {
      const { removed, version } = await registry.sweep();
      if (removed > 0) log.info({ removed, version }, 'expired instances removed');
      if (sweepFailing) log.info('sweep recovered');
      sweepFailing = false;
      noteVersion(version);
    } catch (err) {
      if (!sweepFailing) log.warn({ err: (err as Error).message }, 'sweep failed (redis unavailable?)');
      sweepFailing = true;
    }
  };
  let sweeping = false;
  const sweepTimer = setInterval(() => {
    if (sweeping) return;
    sweeping = true;
    void sweep().finally(() => (sweeping = false));
  }, config.DISCOVERY_SWEEP_MS);
  sweepTimer.unref();

  const handleWatch = async (req: IncomingMessage, res: ServerResponse, params: URLSearchParams) => {
    const since = intParam(params.get('since'), 'since', 0, Number.MAX_SAFE_INTEGER);
    const timeoutMs = intParam(params.get('timeoutMs'), 'timeoutMs', 0, MAX_WATCH_TIMEOUT_MS) ?? DEFAULT_WATCH_TIMEOUT_MS;
    // Listen before reading, so a change landing between the read and the wait is not missed.
    let wake!: (why: 'change' | 'timeout' | 'closed') => void;
    const woken = new Promise<'change' | 'timeout' | 'closed'>((r) => (wake = r));
    const onChange = () => wake('change');
    const onClose = () => wake('closed');
    changes.on('change', onChange);
    changes.on('stop', onChange);
    res.on('close', onClose);
    const timer = setTimeout(() => wake('timeout'), timeoutMs);
    try {
      const snap = await registry.snapshot();
      // "!==" rather than ">": a Redis that lost its data restarts the counter below `since`.
      if (since === undefined || snap.version !== since) return sendJson(res, 200, snap);
      const why = await woken;
      if (why === 'closed') return;
      // On timeout the answer is 200 with the unchanged state (same version): the client polls again.
      sendJson(res, 200, await registry.snapshot());
    } finally {
      clearTimeout(timer);
      changes.off('change', onChange);
      changes.off('stop', onChange);
      res.off('close', onClose);
    }
  };

  const health = async () => {
    try {
      const pong = await withTimeout(redis.ping(), HEALTH_TIMEOUT_MS, 'redis did not answer PING in time');
      if (pong !== 'PONG') throw new Error(`unexpected PING reply ${pong}`);
      return { ok: true };
    } catch (err) {
      return { ok: false, reason: `redis: ${(err as Error).message}` };
    }
  };

  const route = async (req: IncomingMessage, res: ServerResponse, { path }: RequestContext): Promise<void> => {
    const u = new URL(req.url ?? '/', 'http://discovery');
    const parts = path.split('/').filter(Boolean);
    const method = req.method ?? 'GET';

    // A rogue registration would receive clients' requests and tokens through the gateway; the
    // listing names internal addresses: every /v1 call proves it is one of our services.
    if (config.DISCOVERY_TOKEN && !secretMatches(extractToken(req.headers), config.DISCOVERY_TOKEN)) {
      req.resume();
      throw new AppError('UNAUTHENTICATED', 'Discovery requires `Authorization: Bearer <DISCOVERY_TOKEN>`.');
    }

    if (parts[1] === 'instances') {
      if (parts.length === 2 && method === 'POST') {
        let body: unknown;
        try {
          body = await readJson(req, BODY_LIMIT);
        } catch (err) {
          if (err instanceof AppError && err.code === 'BAD_USER_INPUT') {
            throw new AppError('BAD_USER_INPUT', err.message, { fields: [{ field: 'body', message: err.message }] });
          }
          throw err;
        }
        const input = parseRegistration(body);
        const { id, version } = await registry.register(input);
        log.info({ id, serviceName: input.service, url: input.url, version }, 'instance registered');
        noteVersion(version);
        return sendJson(res, 201, { id, ttlSeconds: registry.ttlSeconds });
      }
      const id = parts[2] ?? '';
      if (parts.length === 4 && parts[3] === 'heartbeat' && method === 'PUT') {
        if (!ID.test(id) || !(await registry.heartbeat(id))) {
          throw new AppError('NOT_FOUND', `Instance ${id} is unknown or its lease expired; register again.`);
        }
        res.writeHead(204).end();
        return;
      }
      if (parts.length === 3 && method === 'DELETE') {
        // Unknown ids are fine: deregistering is idempotent (the lease may already have expired).
        if (ID.test(id) && (await registry.deregister(id))) log.info({ id }, 'instance deregistered');
        res.writeHead(204).end();
        return;
      }
    }

    if (parts[1] === 'services' && method === 'GET') {
      if (parts.length === 2) return sendJson(res, 200, await registry.snapshot());
      if (parts.length === 3) {
        let name = '';
        try {
          name = decodeURIComponent(parts[2]!);
        } catch {
          // malformed %-escape: reported as a bad name below
        }
        if (!SERVICE_NAME.test(name)) {
          throw new AppError('BAD_USER_INPUT', 'Invalid service name.', { fields: [{ field: 'name', message: 'invalid' }] });
        }
        const snap = await registry.snapshot();
        // An unknown service simply has no instances (it may register later): 200 with [].
        return sendJson(res, 200, { version: snap.version, instances: snap.services[name] ?? [] });
      }
    }

    if (parts[1] === 'watch' && parts.length === 2 && method === 'GET') return handleWatch(req, res, u.searchParams);

    throw new AppError('NOT_FOUND', `No route for ${method} ${path}.`);
  };

  const http = await startHttpService({
    port: config.PORT,
    host: config.HOST,
    logger: log,
    router: new Router().addPrefix('*', '/v1/', route),
    health,
    // Anything but an AppError comes from Redis (down, timing out): a dependency problem, not our bug.
    unexpectedError: (err, { requestId }) => {
      log.warn({ requestId, err: (err as Error).message }, 'request failed: store unavailable');
      return new AppError('SERVICE_UNAVAILABLE', 'Discovery store (Redis) is unavailable, try again shortly.');
    },
  });
  const { port, base: url } = http;
  log.info({ url, ttlSeconds: config.DISCOVERY_TTL_SECONDS, sweepMs: config.DISCOVERY_SWEEP_MS }, 'discovery listening');

  let stopped: Promise<void> | undefined;
  const stop = () =>
    (stopped ??= (async () => {
      clearInterval(sweepTimer);
      changes.emit('stop'); // answer pending long-polls now instead of holding shutdown for 25 s
      await http.stop();
      sub.disconnect();
      await redis.quit().catch(() => redis.disconnect());
    })());

  return { url, port, stop };
}
