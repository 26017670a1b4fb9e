import type { IncomingMessage } from 'node:http';
import type { Redis } from 'ioredis';
import { rateLimited, type Logger } from '@dream/common';

export interface LoginRateLimitOptions {
  maxAttempts: number;
  windowSeconds: number;
}

/**
 * The caller's address: the first `x-forwarded-for` entry (the gateway forwards the client's), else the
 * socket peer. Note x-forwarded-for is only trustworthy behind the gateway; a direct caller can set it.
 */
export function clientAddress(req: Pick<IncomingMessage, 'headers' | 'socket'>): string {
  const xff = req.headers['x-forwarded-for'];
  const first = (Array.isArray(xff) ? xff[0] : xff)?.split(',')[0]?.trim();
  return first || req.socket?.remoteAddress || 'unknown';
}

/**
 * Fixed-window counter of failed logins per (username, client address) in Redis, shared by every
 * replica. When Redis is unreachable the limiter steps aside (login keeps working) and logs a warning:
 * an outage of the cache must not lock every user out.
 */
export class LoginRateLimiter {
  constructor(
    private readonly redis: Redis | undefined,
    private readonly opts: LoginRateLimitOptions,
    private readonly logger?: Logger,
  ) {}

  private lastWarning = 0;

  /**
   * False while the client is not connected: we skip at once instead of waiting for the command
   * timeout on every login during an outage. Warns at most every 10 s.
   */
  private usable(): boolean {
    if (!this.redis) return false;
    if (this.redis.status === 'ready') return true;
    this.warn(new Error(`redis ${this.redis.status}`), 'login rate limiter unavailable (redis); allowing the attempt');
    return false;
  }

  private warn(err: unknown, msg: string): void {
    const now = Date.now();
    if (now - this.lastWarning < 10_000) return;
    this.lastWarning = now;
    this.logger?.warn({ err: (err as Error).message }, msg);
  }

  private key(username: string, address: string): string {
    return `login:fail:${encodeURIComponent(username.toLowerCase())}:${address}`;
  }

  /** Throws RATE_LIMITED (with retryAfter seconds) when this pair used up its attempts. */
  async check(username: string, address: string): Promise<void> {
    if (!this.redis || !this.usable()) return;
    let count = 0;
    let ttl = -1;
    try {
      const key = this.key(username, address);
      const res = await this.redis.multi().get(key).ttl(key).exec();
      const failed = res?.find(([e]) => e)?.[0];
      if (failed) throw failed;
      count = Number(res?.[0]?.[1] ?? 0);
      ttl = Number(res?.[1]?.[1] ?? -1);
    } catch (err) {
      this.warn(err, 'login rate limiter unavailable (redis); allowing the attempt');
      return;
    }
    if (count >= this.opts.maxAttempts) {
      const retryAfter = ttl > 0 ? ttl : this.opts.windowSeconds;
      throw rateLimited(`Too many failed login attempts. Try again in ${retryAfter} seconds.`, retryAfter);
    }
  }

  async recordFailure(username: string, address: string): Promise<void> {
    if (!this.redis || !this.usable()) return;
    try {
      const key = this.key(username, address);
      // SET NX starts the window on the first failure; INCR keeps the key's TTL.
      const res = await this.redis.multi().set(key, 0, 'EX', this.opts.windowSeconds, 'NX').incr(key).exec();
      const failed = res?.find(([e]) => e)?.[0];
      if (failed) throw failed;
    } catch (err) {
      this.warn(err, 'could not record a failed login (redis)');
    }
  }

  async reset(username: string, address: string): Promise<void> {
    if (!this.redis || !this.usable()) return;
    try {
      await this.redis.del(this.key(username, address));
    } catch (err) {
      this.warn(err, 'could not reset the login counter (redis)');
    }
  }
}
