import { z } from 'zod';
import { announceEnv } from './announce';
import { baseEnv, flag, loadConfig, optionalString, port, positiveInt } from './config';
import { redisSentinelEnv, redisUrlFromEnv, type RedisEnv } from './redis';

/**
 * The variables every subgraph reads, with its own default HTTP port and database. A subgraph spreads
 * this into its config shape and adds only what is its own.
 */
export function subgraphEnv(defaults: { port: number; database: string }) {
  return {
    ...baseEnv,
    ...announceEnv,
    PORT: port(defaults.port),
    HOST: z.string().default('0.0.0.0'),
    DATABASE_URL: z.string().default(defaults.database),
    REDIS_URL: optionalString(),
    ...redisSentinelEnv,
    /** PEM (\n escapes allowed) that verifies tokens. */
    JWT_PUBLIC_KEY: optionalString(),
    /** Where the development key pair lives when no key is given (default ./data/keys, shared by the services). */
    JWT_KEYS_DIR: optionalString(),
    /** gRPC (the subgraph's services, health, reflection); 0 = a free port, advertised to discovery. */
    GRPC_PORT: port(0),
    /** Cache-aside of the subgraph's entities in Redis. */
    CACHE_ENABLED: flag(true),
    CACHE_TTL_SECONDS: positiveInt(300),
  };
}

type SubgraphShape = ReturnType<typeof subgraphEnv>;

/** A subgraph's config as loaded: its shape inferred, REDIS_URL always resolved (URL, sentinel or default). */
export type SubgraphConfigOf<S extends z.ZodRawShape> = Omit<z.infer<z.ZodObject<S>>, 'REDIS_URL'> & { REDIS_URL: string };

/** What startSubgraphService reads from any subgraph's config. */
export type SubgraphConfig = SubgraphConfigOf<SubgraphShape>;

/** Reads and validates a subgraph's environment once; throws ConfigError naming each bad variable. */
export function loadSubgraphConfig<S extends SubgraphShape>(service: string, shape: S, env: NodeJS.ProcessEnv = process.env): SubgraphConfigOf<S> {
  const c = loadConfig(service, shape, env);
  // S extends the common shape, so the Redis variables are there; zod's generic output type cannot say so.
  return { ...c, REDIS_URL: redisUrlFromEnv(service, c as RedisEnv, 'redis://127.0.0.1:6379') } as SubgraphConfigOf<S>;
}
