import { announceEnv, subgraphSecrets, baseEnv, flag, loadConfig, optionalString, port, positiveInt, redisSentinelEnv, redisUrlFromEnv } from '@dream/common';

export const coursesEnv = {
  ...baseEnv,
  ...announceEnv,
  PORT: port(4002),
  HOST: optionalString(),
  DATABASE_URL: optionalString(),
  REDIS_URL: optionalString(),
  ...redisSentinelEnv,
  /** PEM (\n escapes allowed). Courses only verifies tokens; it never signs. */
  JWT_PUBLIC_KEY: optionalString(),
  /** Where the development key pair lives when JWT_PUBLIC_KEY is unset (default ./data/keys, shared with users). */
  JWT_KEYS_DIR: optionalString(),
  /** gRPC (PurchaseService, health, reflection); 0 = a free port, advertised to discovery. */
  GRPC_PORT: port(0),
  /** Cache-aside for course details and lists in Redis. */
  CACHE_ENABLED: flag(true),
  CACHE_TTL_SECONDS: positiveInt(300),
  /** How often a replica applies cache invalidations left in the outbox by a writer that could not reach Redis. */
  CACHE_OUTBOX_POLL_MS: positiveInt(1000),
};

export interface CoursesConfig {
  LOG_LEVEL: string;
  PORT: number;
  HOST: string;
  DATABASE_URL: string;
  REDIS_URL: string;
  JWT_PUBLIC_KEY?: string;
  JWT_KEYS_DIR?: string;
  DISCOVERY_URL?: string;
  DISCOVERY_TOKEN?: string;
  /** When set, gRPC calls must carry a service signature made with it (see service-auth). */
  SERVICE_TOKEN?: string;
  NODE_ENV: string;
  ADVERTISE_HOST: string;
  GRPC_PORT: number;
  CACHE_ENABLED: boolean;
  CACHE_TTL_SECONDS: number;
  CACHE_OUTBOX_POLL_MS: number;
}

/** Reads the environment once; defaults make `npm start -w subgraphs/courses` work with no set-up. */
export function loadCoursesConfig(env: NodeJS.ProcessEnv = process.env): CoursesConfig {
  const c = loadConfig('courses', coursesEnv, env);
  return {
    LOG_LEVEL: c.LOG_LEVEL,
    PORT: c.PORT,
    HOST: c.HOST ?? '0.0.0.0',
    DATABASE_URL: c.DATABASE_URL ?? 'sqlite:./data/courses.db',
    REDIS_URL: redisUrlFromEnv('courses', c, 'redis://127.0.0.1:6379'),
    JWT_PUBLIC_KEY: c.JWT_PUBLIC_KEY,
    JWT_KEYS_DIR: c.JWT_KEYS_DIR,
    DISCOVERY_URL: c.DISCOVERY_URL,
    DISCOVERY_TOKEN: c.DISCOVERY_TOKEN,
    SERVICE_TOKEN: c.SERVICE_TOKEN,
    NODE_ENV: c.NODE_ENV,
    ADVERTISE_HOST: c.ADVERTISE_HOST,
    GRPC_PORT: c.GRPC_PORT,
    CACHE_ENABLED: c.CACHE_ENABLED,
    CACHE_TTL_SECONDS: c.CACHE_TTL_SECONDS,
    CACHE_OUTBOX_POLL_MS: c.CACHE_OUTBOX_POLL_MS,
  };
}

/** The service secrets this subgraph refuses to start without under NODE_ENV=production (deploy checks read this too). */
export const requiredSecrets = subgraphSecrets;
