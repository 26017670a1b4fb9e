import { z } from 'zod';
import { announceEnv, subgraphSecrets, baseEnv, ConfigError, flag, loadConfig, optionalString, port, positiveInt, redisSentinelEnv, redisUrlFromEnv, signingKeyProblems } from '@dream/common';

/** Every environment variable the users subgraph reads, with the defaults that make `npm start` work. */
export const usersEnv = {
  ...baseEnv,
  ...announceEnv,
  PORT: port(4001),
  HOST: z.string().default('0.0.0.0'),
  DATABASE_URL: z.string().default('sqlite:./data/users.db'),
  REDIS_URL: optionalString(),
  ...redisSentinelEnv,
  JWT_PRIVATE_KEY: optionalString(),
  JWT_PUBLIC_KEY: optionalString(),
  JWT_KEYS_DIR: optionalString(),
  JWT_TTL_SECONDS: positiveInt(3600),
  /** Failed logins allowed per (username, client address) within the window before RATE_LIMITED. */
  LOGIN_MAX_ATTEMPTS: positiveInt(10),
  LOGIN_WINDOW_SECONDS: positiveInt(900),
  /** Failed logins per username from all addresses together within the window (a distributed guess stops here). */
  LOGIN_ACCOUNT_MAX_ATTEMPTS: positiveInt(50),
  /** Signups per client address (IPv6: per /64) within SIGNUP_WINDOW_SECONDS. */
  SIGNUP_MAX_PER_WINDOW: positiveInt(100),
  SIGNUP_WINDOW_SECONDS: positiveInt(3600),
  /**
   * Peers whose X-Forwarded-For names the client (addresses, CIDRs, or loopback/linklocal/uniquelocal):
   * the gateway, which sends the address it saw. A peer outside the list is the client itself.
   */
  TRUSTED_PROXIES: z.string().default('loopback,uniquelocal'),
  /** gRPC (UserService, health, reflection); 0 = a free port, advertised to discovery. */
  GRPC_PORT: port(0),
  /**
   * Courses gRPC addresses (`host:port`, comma-separated) for running without discovery. Ignored when
   * DISCOVERY_URL is set: then the courses instances come from discovery.
   */
  COURSES_GRPC_URL: optionalString(),
  /** Deadline of each gRPC attempt to courses (a retried purchase can take twice this). */
  GRPC_DEADLINE_MS: positiveInt(2000),
  /** Cache-aside for user profiles in Redis. */
  CACHE_ENABLED: flag(true),
  CACHE_TTL_SECONDS: positiveInt(300),
};

/** REDIS_URL is always set after loading: the given URL, the sentinel URL, or the local default. */
export type UsersConfig = Omit<z.infer<z.ZodObject<typeof usersEnv>>, 'REDIS_URL'> & { REDIS_URL: string };

/** Reads and validates the environment once; throws ConfigError naming each bad variable. */
export function loadUsersConfig(env: NodeJS.ProcessEnv = process.env): UsersConfig {
  const c = loadConfig('users', usersEnv, env);
  // Users signs tokens: a half key pair would start fine and then have every token refused elsewhere.
  const problems = signingKeyProblems(c);
  if (problems.length > 0) throw new ConfigError('users', problems);
  return { ...c, REDIS_URL: redisUrlFromEnv('users', c, 'redis://127.0.0.1:6379') };
}

/** The service secrets this subgraph refuses to start without under NODE_ENV=production (deploy checks read this too). */
export const requiredSecrets = subgraphSecrets;
