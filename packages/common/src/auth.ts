import type { Redis } from 'ioredis';
import { forbidden, unauthenticated } from './errors';
import { extractToken, hasRole, type AuthUser, type JwtService, type Role } from './jwt';
import type { Logger } from './logger';

const revokedKey = (jti: string) => `jwt:revoked:${jti}`;

/**
 * Verifies bearer tokens and checks the logout denylist in Redis. Shared by the gateway and every
 * subgraph so a token revoked on one replica is refused everywhere. When Redis is down the denylist
 * cannot be read: we accept signature-valid tokens (availability over a revocation window bounded
 * by the token's expiry) and log it.
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

  async isRevoked(jti: string): Promise<boolean> {
    if (!this.redis) return false;
    try {
      return (await this.redis.exists(revokedKey(jti))) === 1;
    } catch (err) {
      this.logger?.warn({ err: (err as Error).message }, 'denylist unreachable; accepting a signature-valid token');
      return false;
    }
  }

  /** Puts the token on the denylist until it would have expired anyway. */
  async revoke(user: Pick<AuthUser, 'jti' | 'exp'>): Promise<void> {
    if (!this.redis) return;
    const ttl = Math.max(1, user.exp - Math.floor(Date.now() / 1000));
    await this.redis.set(revokedKey(user.jti), '1', 'EX', ttl);
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
