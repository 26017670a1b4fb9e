import { z } from 'zod';
import { announceEnv, subgraphSecrets, baseEnv, loadConfig, optionalString, port, positiveInt, redisSentinelEnv, redisUrlFromEnv } from '@dream/common';

export const mediaEnv = {
  ...baseEnv,
  ...announceEnv,
  PORT: port(4003),
  HOST: optionalString(),
  DATABASE_URL: optionalString(),
  REDIS_URL: optionalString(),
  ...redisSentinelEnv,
  /** PEM (\n escapes allowed). Media only verifies tokens; it never signs. */
  JWT_PUBLIC_KEY: optionalString(),
  /** Where the development key pair lives when JWT_PUBLIC_KEY is unset (default ./data/keys, shared with users). */
  JWT_KEYS_DIR: optionalString(),
  /** `api` serves GraphQL and /media routes; `worker` runs transcoding jobs only. */
  MEDIA_ROLE: z.enum(['api', 'worker']).default('api'),
  /** HMAC key of upload tickets and playback URLs; required in production (a development one is generated under JWT_KEYS_DIR). */
  MEDIA_SIGNING_SECRET: optionalString(),
  /** Courses' gRPC address(es) `host:port[,…]`, used only without DISCOVERY_URL. */
  COURSES_GRPC_URL: optionalString(),
  /** Deadline of each access question to courses. */
  COURSES_GRPC_DEADLINE_MS: positiveInt(2000),
  /** Where media files live on local disk. */
  MEDIA_DIR: optionalString(),
  /** Public path prefix of the media routes (uploads, playback) as clients reach them through the gateway. */
  MEDIA_PUBLIC_PATH: z.string().regex(/^\/[A-Za-z0-9/_-]*[^/]$/, 'a path like /media').default('/media'),
  /** Largest upload accepted (bytes); larger answers 413. Default 2 GiB. */
  MEDIA_MAX_UPLOAD_BYTES: positiveInt(2 * 1024 ** 3),
  /** Storage each course owner may use for uploaded sources (bytes); beyond it uploads answer 403. Default 20 GiB. */
  MEDIA_OWNER_QUOTA_BYTES: positiveInt(20 * 1024 ** 3),
  /** How long an upload ticket may start an upload. */
  MEDIA_UPLOAD_TICKET_TTL_SECONDS: positiveInt(3600),
  /** How long playback URLs stay valid. */
  MEDIA_PLAYBACK_TTL_SECONDS: positiveInt(4 * 3600),
};

export interface MediaConfig {
  LOG_LEVEL: string;
  NODE_ENV: string;
  PORT: number;
  HOST: string;
  DATABASE_URL: string;
  REDIS_URL: string;
  JWT_PUBLIC_KEY?: string;
  JWT_KEYS_DIR?: string;
  DISCOVERY_URL?: string;
  DISCOVERY_TOKEN?: string;
  /** Signs this service's calls to courses (see service-auth). */
  SERVICE_TOKEN?: string;
  ADVERTISE_HOST: string;
  MEDIA_ROLE: 'api' | 'worker';
  MEDIA_SIGNING_SECRET?: string;
  COURSES_GRPC_URL?: string;
  COURSES_GRPC_DEADLINE_MS: number;
  MEDIA_DIR: string;
  MEDIA_PUBLIC_PATH: string;
  MEDIA_MAX_UPLOAD_BYTES: number;
  MEDIA_OWNER_QUOTA_BYTES: number;
  MEDIA_UPLOAD_TICKET_TTL_SECONDS: number;
  MEDIA_PLAYBACK_TTL_SECONDS: number;
}

/** Reads the environment once; defaults make `npm start -w subgraphs/media` work with no set-up. */
export function loadMediaConfig(env: NodeJS.ProcessEnv = process.env): MediaConfig {
  const c = loadConfig('media', mediaEnv, env);
  return {
    LOG_LEVEL: c.LOG_LEVEL,
    NODE_ENV: c.NODE_ENV,
    PORT: c.PORT,
    HOST: c.HOST ?? '0.0.0.0',
    DATABASE_URL: c.DATABASE_URL ?? 'sqlite:./data/media.db',
    REDIS_URL: redisUrlFromEnv('media', c, 'redis://127.0.0.1:6379'),
    JWT_PUBLIC_KEY: c.JWT_PUBLIC_KEY,
    JWT_KEYS_DIR: c.JWT_KEYS_DIR,
    DISCOVERY_URL: c.DISCOVERY_URL,
    DISCOVERY_TOKEN: c.DISCOVERY_TOKEN,
    SERVICE_TOKEN: c.SERVICE_TOKEN,
    ADVERTISE_HOST: c.ADVERTISE_HOST,
    MEDIA_ROLE: c.MEDIA_ROLE,
    MEDIA_SIGNING_SECRET: c.MEDIA_SIGNING_SECRET,
    COURSES_GRPC_URL: c.COURSES_GRPC_URL,
    COURSES_GRPC_DEADLINE_MS: c.COURSES_GRPC_DEADLINE_MS,
    MEDIA_DIR: c.MEDIA_DIR ?? './data/media',
    MEDIA_PUBLIC_PATH: c.MEDIA_PUBLIC_PATH,
    MEDIA_MAX_UPLOAD_BYTES: c.MEDIA_MAX_UPLOAD_BYTES,
    MEDIA_OWNER_QUOTA_BYTES: c.MEDIA_OWNER_QUOTA_BYTES,
    MEDIA_UPLOAD_TICKET_TTL_SECONDS: c.MEDIA_UPLOAD_TICKET_TTL_SECONDS,
    MEDIA_PLAYBACK_TTL_SECONDS: c.MEDIA_PLAYBACK_TTL_SECONDS,
  };
}

/**
 * Secrets media refuses to start without under NODE_ENV=production: the service ones, and the signing
 * secret (a generated one would differ between hosts and let nobody else verify its URLs).
 */
export const requiredSecrets = (env: { DISCOVERY_URL?: string }): Array<'DISCOVERY_TOKEN' | 'SERVICE_TOKEN' | 'MEDIA_SIGNING_SECRET'> => [
  ...subgraphSecrets(env),
  'MEDIA_SIGNING_SECRET',
];
