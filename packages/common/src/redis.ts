import { Redis, type RedisOptions } from 'ioredis';
import type { Logger } from './logger';

export { Redis };

/**
 * A Redis client that fails fast while Redis is down (no unbounded offline queue), so callers can
 * fall back to the database instead of hanging, and reconnects on its own when Redis returns.
 */
export function createRedis(url: string, logger?: Logger, extra: RedisOptions = {}): Redis {
  const client = new Redis(url, {
    lazyConnect: false,
    maxRetriesPerRequest: 1,
    enableOfflineQueue: true,
    connectTimeout: 2000,
    commandTimeout: 2000,
    retryStrategy: (times) => Math.min(50 * times, 1000),
    ...extra,
  });
  let down = false;
  client.on('error', (err: Error) => {
    if (!down) logger?.warn({ err: err.message }, 'redis unavailable');
    down = true;
  });
  client.on('ready', () => {
    if (down) logger?.info('redis reconnected');
    down = false;
  });
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
