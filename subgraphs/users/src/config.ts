import { z } from 'zod';
import { ConfigError, optionalString, positiveInt, signingKeyProblems, subgraphSecrets } from '@dream/common';
import { loadSubgraphConfig, subgraphEnv, type SubgraphConfigOf } from '@dream/common/subgraph';

/** Every environment variable the users subgraph reads, with the defaults that make `npm start` work. */
export const usersEnv = {
  ...subgraphEnv({ port: 4001, database: 'sqlite:./data/users.db' }),
  /** PEM (\n escapes allowed). Users is the one service that signs tokens. */
  JWT_PRIVATE_KEY: optionalString(),
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
  /**
   * Courses gRPC addresses (`host:port`, comma-separated) for running without discovery. Ignored when
   * DISCOVERY_URL is set: then the courses instances come from discovery.
   */
  COURSES_GRPC_URL: optionalString(),
  /** Deadline of each gRPC attempt to courses (a retried purchase can take twice this). */
  GRPC_DEADLINE_MS: positiveInt(2000),
};

export type UsersConfig = SubgraphConfigOf<typeof usersEnv>;

/** Reads and validates the environment once; throws ConfigError naming each bad variable. */
export function loadUsersConfig(env: NodeJS.ProcessEnv = process.env): UsersConfig {
  const c = loadSubgraphConfig('users', usersEnv, env);
  // Users signs tokens: a half key pair would start fine and then have every token refused elsewhere.
  const problems = signingKeyProblems(c);
  if (problems.length > 0) throw new ConfigError('users', problems);
  return c;
}

/** The service secrets this subgraph refuses to start without under NODE_ENV=production (deploy checks read this too). */
export const requiredSecrets = subgraphSecrets;
