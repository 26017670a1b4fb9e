import { Redis, type RedisOptions } from 'ioredis';
import { z } from 'zod';
import { ConfigError, optionalString } from './config';
import type { Logger } from './logger';

export { Redis };

/**
 * Sentinel deployments are written as one URL so every service keeps a single "where is Redis" value:
 * `redis+sentinel://[:password@]host:port,host:port/<master name>`. Services build it from
 * REDIS_SENTINELS and REDIS_MASTER_NAME (see `redisUrlFromEnv`).
 */
const SENTINEL_SCHEME = 'redis+sentinel:';

/** Environment every service that uses Redis reads besides REDIS_URL (spread into its loadConfig shape). */
export const redisSentinelEnv = {
  /** `host:port,host:port,…` of Redis Sentinels; replaces REDIS_URL (the services follow failovers). */
  REDIS_SENTINELS: optionalString(),
  /** The master name the sentinels monitor (required with REDIS_SENTINELS). */
  REDIS_MASTER_NAME: optionalString(),
  /** Password of the Redis primary and replicas when using sentinels (with REDIS_URL it goes in the URL). */
  REDIS_PASSWORD: optionalString(),
};

const hostPort = z.string().regex(/^[A-Za-z0-9._-]+:\d{1,5}$/, 'expected host:port');

export interface RedisEnv {
  REDIS_URL?: string;
  REDIS_SENTINELS?: string;
  REDIS_MASTER_NAME?: string;
  REDIS_PASSWORD?: string;
}

/**
 * The one Redis location of a service: REDIS_URL, or the sentinel URL built from REDIS_SENTINELS and
 * REDIS_MASTER_NAME. Setting both kinds, or sentinels without a master name, is a configuration error.
 */
export function redisUrlFromEnv(service: string, c: RedisEnv, dflt: string): string;
export function redisUrlFromEnv(service: string, c: RedisEnv, dflt?: undefined): string | undefined;
export function redisUrlFromEnv(service: string, c: RedisEnv, dflt?: string): string | undefined {
  if (!c.REDIS_SENTINELS) {
    if (c.REDIS_MASTER_NAME) throw new ConfigError(service, ['REDIS_MASTER_NAME: only used with REDIS_SENTINELS']);
    if (c.REDIS_URL && !/^rediss?:\/\/[^\s]+$/.test(c.REDIS_URL)) throw new ConfigError(service, ['REDIS_URL: expected redis://[user:password@]host:port[/db]']);
    return c.REDIS_URL ?? dflt;
  }
  const problems: string[] = [];
  if (c.REDIS_URL) problems.push('REDIS_URL: set either REDIS_URL or REDIS_SENTINELS, not both');
  if (!c.REDIS_MASTER_NAME) problems.push('REDIS_MASTER_NAME: required with REDIS_SENTINELS');
  else if (!/^[A-Za-z0-9._-]+$/.test(c.REDIS_MASTER_NAME)) problems.push('REDIS_MASTER_NAME: letters, digits, . _ - only');
  const sentinels = c.REDIS_SENTINELS.split(',').map((s) => s.trim());
  for (const s of sentinels) {
    const r = hostPort.safeParse(s);
    const port = Number(s.split(':')[1]);
    if (!r.success || port < 1 || port > 65535) problems.push(`REDIS_SENTINELS: "${s}" is not host:port`);
  }
  if (problems.length) throw new ConfigError(service, problems);
  const auth = c.REDIS_PASSWORD ? `:${encodeURIComponent(c.REDIS_PASSWORD)}@` : '';
  return `${SENTINEL_SCHEME}//${auth}${sentinels.join(',')}/${c.REDIS_MASTER_NAME}`;
}

/** For logs: the URL with any password masked. */
export const redactRedisUrl = (url: string) => url.replace(/\/\/[^@/]*@/, '//***@');

function sentinelOptions(url: string): RedisOptions {
  const m = /^redis\+sentinel:\/\/(?:([^@]*)@)?([^/]+)\/([^/?#]+)$/.exec(url);
  if (!m) throw new Error(`not a sentinel URL: ${redactRedisUrl(url)}`);
  const password = m[1] ? decodeURIComponent(m[1].replace(/^[^:]*:/, '')) : undefined;
  return {
    name: m[3],
    sentinels: m[2].split(',').map((hp) => ({ host: hp.slice(0, hp.lastIndexOf(':')), port: Number(hp.slice(hp.lastIndexOf(':') + 1)) })),
    ...(password ? { password } : {}),
    // No `failoverDetector`: in ioredis 5 it can end a client for good (status "end") when the failover is
    // announced while the client is reconnecting — seen here as a gateway whose subscriber never came back.
    // A killed or demoted primary closes its connections, and a silent one makes commands time out (see
    // below), so the client asks the sentinels again either way.
    sentinelRetryStrategy: (times) => Math.min(100 * times, 1000),
  };
}

/**
 * A Redis client that fails fast while Redis is down (no unbounded offline queue), so callers can
 * fall back to the database instead of hanging, and reconnects on its own when Redis returns. `url`
 * is a redis:// URL or a sentinel URL (`redisUrlFromEnv`); with sentinels the client finds the primary
 * through them and follows failovers.
 *
 * A command that times out while the connection looks healthy means packets are being lost (a
 * partition, a dead host that sent no reset): the connection is dropped and, until a new one is
 * ready, commands fail at once instead of each waiting out its timeout. A restart (refused
 * connections) keeps the short offline queue, so a blip costs a wait, not an error.
 */
export function createRedis(url: string, logger?: Logger, extra: RedisOptions = {}): Redis {
  const options: RedisOptions = {
    lazyConnect: false,
    maxRetriesPerRequest: 1,
    enableOfflineQueue: true,
    connectTimeout: 2000,
    commandTimeout: 2000,
    retryStrategy: (times) => Math.min(50 * times, 1000),
    ...extra,
  };
  const client = url.startsWith(SENTINEL_SCHEME) ? new Redis({ ...sentinelOptions(url), ...options }) : new Redis(url, options);
  let down = false;
  let unreachable = false;
  client.on('error', (err: Error) => {
    if (!down) logger?.warn({ err: err.message }, 'redis unavailable');
    down = true;
  });
  client.on('ready', () => {
    if (down || unreachable) logger?.info('redis reconnected');
    down = false;
    unreachable = false;
  });
  if (options.commandTimeout) {
    const send = client.sendCommand.bind(client);
    client.sendCommand = ((command: Parameters<Redis['sendCommand']>[0], stream?: Parameters<Redis['sendCommand']>[1]) => {
      // 'connect' is a new connection's handshake (INFO, CLIENT …): failing those would fail every reconnect
      if (unreachable && client.status !== 'ready' && client.status !== 'connect') {
        command.reject(new Error('Redis unreachable (commands timed out; reconnecting)'));
        return command.promise;
      }
      const p = send(command, stream) as Promise<unknown>;
      p?.catch?.((err: Error) => {
        if (err?.message !== 'Command timed out' || client.status !== 'ready' || unreachable) return;
        unreachable = true;
        logger?.warn('redis commands time out: dropping the connection, failing fast until it is back');
        client.stream?.destroy();
      });
      return p;
    }) as Redis['sendCommand'];
  }
  return client;
}

/** True when Redis answers PING within the client's command timeout. */
export async function redisHealthy(client: Redis): Promise<boolean> {
  try {
    return (await client.ping()) === 'PONG';
  } catch {
    return false;
  }
}

/**
 * QUIT when Redis is there (flushes pending commands), disconnect otherwise: with Redis down, QUIT
 * would wait in the offline queue forever and SIGTERM would never finish.
 */
export async function closeRedis(redis: Redis, graceMs = 1000): Promise<void> {
  if (redis.status !== 'ready') {
    redis.disconnect();
    return;
  }
  const timer = setTimeout(() => redis.disconnect(), graceMs);
  try {
    await redis.quit();
  } catch {
    redis.disconnect();
  } finally {
    clearTimeout(timer);
  }
}
