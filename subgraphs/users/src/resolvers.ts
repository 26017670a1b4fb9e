import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper';
import {
  requireUser,
  serviceUnavailable,
  unauthenticated,
  type Authenticator,
  type AuthUser,
  type JwtService,
} from '@dream/common';
import type { UsersContext } from './context';
import type { CoursesClient } from './grpc/courses-client';
import type { UserRecord, UsersRepository } from './data/users-repository';
import type { LoginRateLimiter } from './login-rate-limit';
import { dummyHash, hashPassword, verifyPassword } from './passwords';
import { buyCourse } from './purchase';
import type { UserProfile } from './user-cache';
import { validateLogin, validateSignup } from './validation';

export interface ResolverDeps {
  repo: UsersRepository;
  jwt: JwtService;
  authenticator: Authenticator;
  limiter: LoginRateLimiter;
  /** gRPC client of courses (buyCourse). */
  courses: CoursesClient;
  /** Drops cached profiles after a write (before answering). */
  invalidateUser?: (id: string) => Promise<void>;
}

/** One message for an unknown user and a wrong password, so the answer does not reveal which it was. */
export const INVALID_CREDENTIALS = 'Invalid username or password.';

/** The caller, or the reason their token was refused, or "authentication required". */
function caller(ctx: UsersContext): AuthUser {
  if (ctx.authError) throw ctx.authError;
  return requireUser(ctx.user);
}

const authPayload = (jwt: JwtService, user: UserRecord) => ({
  jwt: jwt.sign({ id: user.id, username: user.username, roles: user.roles }),
  user,
});

export function createResolvers(deps: ResolverDeps): GraphQLResolverMap<UsersContext> {
  const { repo, jwt, authenticator, limiter, courses } = deps;
  return {
    Query: {
      me: (_: unknown, __: unknown, ctx: UsersContext) => {
        if (ctx.authError) throw ctx.authError;
        return ctx.user ? ctx.loaders.user.load(ctx.user.id) : null;
      },
      user: (_: unknown, args: { id: string }, ctx: UsersContext) => ctx.loaders.user.load(args.id),
    },
    Mutation: {
      signup: async (_: unknown, args: { input: unknown }, ctx: UsersContext) => {
        const input = validateSignup(args.input);
        await limiter.reserveSignup(ctx.clientAddress);
        const user = await repo.createUser({
          username: input.username,
          email: input.email,
          roles: input.roles,
          passwordHash: await hashPassword(input.password),
        });
        ctx.logger.info({ userId: user.id, roles: user.roles }, 'user signed up');
        await deps.invalidateUser?.(user.id);
        ctx.signedInAs = user.id;
        return authPayload(jwt, user);
      },
      login: async (_: unknown, args: { username: unknown; password: unknown }, ctx: UsersContext) => {
        const { username, password } = validateLogin(args);
        await limiter.reserveLogin(username, ctx.clientAddress);
        const user = await repo.findByUsername(username);
        // Always run one argon2 verification, against a dummy hash when the user is unknown.
        const ok = await verifyPassword(user?.passwordHash ?? (await dummyHash()), password);
        if (!user || !ok) {
          ctx.logger.info({ clientAddress: ctx.clientAddress }, 'failed login');
          throw unauthenticated(INVALID_CREDENTIALS);
        }
        await limiter.loginSucceeded(username, ctx.clientAddress);
        ctx.signedInAs = user.id;
        return authPayload(jwt, user);
      },
      logout: async (_: unknown, __: unknown, ctx: UsersContext) => {
        const user = caller(ctx);
        try {
          await authenticator.revoke(user);
        } catch (err) {
          // Saying "logged out" while the token still works would be a lie the client relies on.
          ctx.logger.warn({ err: (err as Error).message }, 'could not revoke a token');
          throw serviceUnavailable('Could not log out right now (token store unavailable); try again shortly.');
        }
        return true;
      },
      buyCourse: async (_: unknown, args: { courseId: unknown; idempotencyKey?: unknown }, ctx: UsersContext) => {
        const user = caller(ctx);
        return buyCourse({ repo, courses }, user, ctx.token ?? '', args, ctx.requestId);
      },
    },
    User: {
      __resolveReference: (ref: { id: string }, ctx: UsersContext) => ctx.loaders.user.load(ref.id),
      // Email is private: only its owner sees it.
      email: (user: UserProfile, _: unknown, ctx: UsersContext) =>
        ctx.user?.id === user.id || ctx.signedInAs === user.id ? user.email : null,
    },
  };
}
