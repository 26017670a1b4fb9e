import type { Redis } from 'ioredis';
import { forbidden, serviceUnavailable, unauthenticated } from './errors';
import { extractToken, hasRole, type AuthUser, type JwtService, type Role } from './jwt';
import type { Logger } from './logger';

const revokedKey = (jti: string) => `jwt:revoked:${jti}`;

/**
 * Verifies bearer tokens and checks the logout denylist in Redis. Shared by the gateway and every
 * subgraph so a token revoked on one replica is refused everywhere. Fails closed: when the denylist
 * cannot be read (Redis down) a token cannot be told apart from a revoked one, so authenticated calls
 * answer SERVICE_UNAVAILABLE (503) instead of trusting it; anonymous calls are unaffected.
 */
export class Authenticator {
  constructor(
    readonly jwt: JwtService,
    private readonly redis: Redis | undefined,
    private readonly logger?: Logger,
  ) {}

  /** undefined when no token was sent; throws UNAUTHENTICATED for a bad, expired or revoked one. */
  async fromHeaders(headers: Parameters<typeof extractToken>[0]): Promise<AuthUser | undefined> {
    const token = extractToken(headers);
    if (token === undefined) return undefined;
    return this.verify(token);
  }

  async verify(token: string): Promise<AuthUser> {
    if (!token) throw unauthenticated('Invalid token.');
    const user = this.jwt.verify(token);
    if (await this.isRevoked(user.jti)) throw unauthenticated('Token has been revoked.');
    return user;
  }

  /** Throws SERVICE_UNAVAILABLE when the denylist cannot be read (never answers "not revoked" by default). */
  async isRevoked(jti: string): Promise<boolean> {
    // Without a Redis the service was configured with no denylist at all (a gateway without REDIS_URL):
    // the subgraphs behind it still check theirs on every call.
    if (!this.redis) return false;
    try {
      return (await this.redis.exists(revokedKey(jti))) === 1;
    } catch (err) {
      this.warn(err);
      throw serviceUnavailable('Cannot check the token right now (token store unavailable); try again shortly.');
    }
  }

  private lastWarning = 0;
  private warn(err: unknown): void {
    const now = Date.now();
    if (now - this.lastWarning < 10_000) return;
    this.lastWarning = now;
    this.logger?.warn({ err: (err as Error).message }, 'denylist unreachable: refusing authenticated calls (503)');
  }

  /**
   * Puts the token on the denylist until it would have expired anyway. Throws when it could not: a
   * logout that answered success while the token still works would be a lie the client relies on.
   */
  async revoke(user: Pick<AuthUser, 'jti' | 'exp'>): Promise<void> {
    if (!this.redis) throw serviceUnavailable('This service has no token store: cannot revoke tokens.');
    const ttl = Math.max(1, user.exp - Math.floor(Date.now() / 1000));
    const ok = await this.redis.set(revokedKey(user.jti), '1', 'EX', ttl);
    if (ok !== 'OK') throw serviceUnavailable('The token store did not confirm the revocation.');
  }
}

/** The caller, or UNAUTHENTICATED. */
export function requireUser(user: AuthUser | undefined): AuthUser {
  if (!user) throw unauthenticated('Authentication required: send a JWT in the Authorization or jwt header.');
  return user;
}

/** The caller when it has `role`; UNAUTHENTICATED without a token, FORBIDDEN with the wrong role. */
export function requireRole(user: AuthUser | undefined, role: Role): AuthUser {
  const u = requireUser(user);
  if (!hasRole(u, role)) throw forbidden(`Only a user with the ${role} role can do this.`);
  return u;
}
