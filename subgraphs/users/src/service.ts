import { cacheMetrics, trustedProxies, type EntityCache } from '@dream/common';
import { getProtos, wrapUnary } from '@dream/common/grpc';
import { readTypeDefs, startSubgraphService, type SubgraphInfra, type SubgraphParts, type SubgraphService } from '@dream/common/subgraph';
import type { UsersConfig } from './config';
import { contextFactory, type UsersContext } from './context';
import { migrations } from './data/migrations';
import { UsersRepository, type UsersDb } from './data/users-repository';
import { createCoursesClient, type CoursesClient } from './grpc/courses-client';
import { getUsers } from './grpc/get-users';
import { LoginRateLimiter } from './login-rate-limit';
import { dummyHash } from './passwords';
import { createResolvers } from './resolvers';
import { createUserCache, type UserProfile } from './user-cache';

export const SERVICE_NAME = 'users';

/** The subgraph's SDL, as served by `_service { sdl }` and composed by the gateway. */
export const typeDefs = readTypeDefs(__dirname);

/** What a running users subgraph exposes beside the shared parts (tests reach into these). */
export interface UsersParts {
  repo: UsersRepository;
  cache: EntityCache<UserProfile>;
  courses: CoursesClient;
}

export type UsersSubgraph = SubgraphService<UsersDb, UsersParts>;

async function usersParts(infra: SubgraphInfra<UsersConfig, UsersDb>): Promise<SubgraphParts<UsersContext, UsersParts>> {
  const { config, logger, db, redis, jwt, authenticator, registry } = infra;
  // Computed before serving so the first unknown-user login is not slower than the others.
  await dummyHash();
  const repo = new UsersRepository(db.db);
  const cache = createUserCache({ redis, enabled: config.CACHE_ENABLED, ttlSeconds: config.CACHE_TTL_SECONDS, metrics: cacheMetrics(registry), logger });
  const courses = createCoursesClient({
    discoveryUrl: config.DISCOVERY_URL,
    staticAddresses: config.COURSES_GRPC_URL,
    deadlineMs: config.GRPC_DEADLINE_MS,
    logger,
    discoveryToken: config.DISCOVERY_TOKEN,
    serviceSecret: config.SERVICE_TOKEN,
  });
  infra.onStop('courses client', () => courses.close());
  const limiter = new LoginRateLimiter(
    redis,
    {
      maxAttempts: config.LOGIN_MAX_ATTEMPTS,
      maxAccountAttempts: config.LOGIN_ACCOUNT_MAX_ATTEMPTS,
      windowSeconds: config.LOGIN_WINDOW_SECONDS,
      maxSignups: config.SIGNUP_MAX_PER_WINDOW,
      signupWindowSeconds: config.SIGNUP_WINDOW_SECONDS,
    },
    logger,
  );
  const invalidateUser = async (id: string) => void (await cache.invalidate([id]));
  const getUsersCall = (call: Parameters<typeof getUsers>[1]) => getUsers({ repo, cache, authenticator, serviceSecret: config.SERVICE_TOKEN }, call);
  return {
    resolvers: createResolvers({ repo, jwt, authenticator, limiter, courses, invalidateUser }),
    context: contextFactory({ repo, authenticator, cache, trustedProxies: trustedProxies(config.TRUSTED_PROXIES) }),
    grpcServices: [{ definition: getProtos().userService, implementation: { GetUsers: wrapUnary(getUsersCall, { logger }) } }],
    exposed: { repo, cache, courses },
  };
}

/** Starts one users subgraph instance (see startSubgraphService for the order and what stop() closes). */
export function startUsersSubgraph(config: UsersConfig): Promise<UsersSubgraph> {
  return startSubgraphService({ name: SERVICE_NAME, config, typeDefs, migrations: () => migrations, signsTokens: true, parts: usersParts });
}
