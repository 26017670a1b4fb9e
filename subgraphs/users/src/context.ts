import DataLoader from 'dataloader';
import type { AppError, AuthUser, Authenticator, Logger, RequestInfo } from '@dream/common';
import { MAX_IDS_PER_QUERY, type UserRecord, type UsersRepository } from './data/users-repository';
import { clientAddress } from './login-rate-limit';

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
  loaders: { user: DataLoader<string, UserRecord | null> };
}

/** One loader per request: every `load(id)` in a tick becomes one `findByIds` query. */
export function createUserLoader(repo: UsersRepository): DataLoader<string, UserRecord | null> {
  return new DataLoader<string, UserRecord | null>(
    async (ids) => {
      const rows = await repo.findByIds(ids);
      const byId = new Map(rows.map((u) => [u.id, u]));
      return ids.map((id) => byId.get(id) ?? null);
    },
    { maxBatchSize: MAX_IDS_PER_QUERY },
  );
}

export function contextFactory(deps: { repo: UsersRepository; authenticator: Authenticator }) {
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
      clientAddress: clientAddress(req),
      requestId,
      logger,
      loaders: { user: createUserLoader(deps.repo) },
    };
  };
}
