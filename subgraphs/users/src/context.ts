import DataLoader from 'dataloader';
import {
  clientAddressOf,
  extractToken,
  type AppError,
  type TrustedProxies,
  type AuthUser,
  type Authenticator,
  type EntityCache,
  type Logger,
} from '@dream/common';
import { type RequestInfo } from '@dream/common/subgraph';
import { MAX_IDS_PER_QUERY, type UsersRepository } from './data/users-repository';
import { loadProfiles, type UserProfile } from './user-cache';

export interface UsersContext {
  /** The verified caller, if a valid token was sent. */
  user?: AuthUser;
  /**
   * Why the sent token was refused (bad signature, expired, revoked). Kept rather than thrown so that
   * `login`/`signup` still work for a client holding a stale token; `me` and `logout` rethrow it.
   */
  authError?: AppError;
  /**
   * Set by signup/login once the credentials are proven, so the returned `user` shows its own email
   * even though the request carried no token.
   */
  signedInAs?: string;
  clientAddress: string;
  requestId: string;
  logger: Logger;
  /** The caller's raw token, forwarded to courses over gRPC (which verifies it again). */
  token?: string;
  loaders: { user: DataLoader<string, UserProfile | null> };
}

/**
 * One loader per request: every `load(id)` in a tick becomes one cache MGET plus at most one
 * `findByIds` query for the ids the cache did not have.
 */
export function createUserLoader(repo: UsersRepository, cache?: EntityCache<UserProfile>): DataLoader<string, UserProfile | null> {
  return new DataLoader<string, UserProfile | null>(
    async (ids) => {
      const byId = await loadProfiles(repo, cache, ids);
      return ids.map((id) => byId.get(id) ?? null);
    },
    { maxBatchSize: MAX_IDS_PER_QUERY },
  );
}

export function contextFactory(deps: { repo: UsersRepository; authenticator: Authenticator; cache?: EntityCache<UserProfile>; trustedProxies: TrustedProxies }) {
  return async ({ req, requestId, logger }: RequestInfo): Promise<UsersContext> => {
    let user: AuthUser | undefined;
    let authError: AppError | undefined;
    try {
      user = await deps.authenticator.fromHeaders(req.headers);
    } catch (e) {
      authError = e as AppError;
    }
    return {
      user,
      authError,
      clientAddress: clientAddressOf(req, deps.trustedProxies),
      requestId,
      logger,
      token: extractToken(req.headers),
      loaders: { user: createUserLoader(deps.repo, deps.cache) },
    };
  };
}
