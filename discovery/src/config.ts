import { z } from 'zod';
import { type ServiceSecret, baseEnv, loadConfig, optionalString, port, positiveInt, redisSentinelEnv, redisUrlFromEnv } from '@dream/common';

export const discoveryEnv = {
  ...baseEnv,
  PORT: port(8500),
  HOST: z.string().default('0.0.0.0'),
  REDIS_URL: optionalString(),
  ...redisSentinelEnv,
  /** Lease length; an instance that misses heartbeats for this long disappears. */
  DISCOVERY_TTL_SECONDS: positiveInt(10),
  /** How often expired leases are swept out (and watchers told); keeps expiry visible in < 1 s. */
  DISCOVERY_SWEEP_MS: positiveInt(500),
  /**
   * Every /v1 call must send `Authorization: Bearer <DISCOVERY_TOKEN>` (else 401): only our services may
   * register, heartbeat, deregister or read internal addresses. Unset: open (development, warned);
   * required when NODE_ENV=production.
   */
  DISCOVERY_TOKEN: optionalString(),
};

export type DiscoveryConfig = ReturnType<typeof loadDiscoveryConfig>;

export function loadDiscoveryConfig(env: NodeJS.ProcessEnv = process.env) {
  const c = loadConfig('discovery', discoveryEnv, env);
  return { ...c, REDIS_URL: redisUrlFromEnv('discovery', c, 'redis://127.0.0.1:6379') };
}

/** The service secrets the discovery refuses to start without under NODE_ENV=production (deploy checks read this too). */
export const requiredSecrets = (): Array<ServiceSecret & 'DISCOVERY_TOKEN'> => ['DISCOVERY_TOKEN'];
