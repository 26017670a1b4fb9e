import type { Redis } from 'ioredis';
import { addressGroup, rateLimited, type Logger } from '@dream/common';

export interface LoginRateLimitOptions {
  /** Failed logins per (username, client address group) within the window. */
  maxAttempts: number;
  /** Failed logins per username from all addresses together within the window. */
  maxAccountAttempts: number;
  windowSeconds: number;
  /** Signups per client address group within `signupWindowSeconds`. */
  maxSignups: number;
  signupWindowSeconds: number;
}

/**
 * Reserves one attempt in every key at once, or none: refuses (returning the seconds left of the
 * fullest key) when any key is already at its limit. Runs atomically in Redis, so parallel requests
 * cannot all read "below the limit" and then all go ahead; the attempt is counted before the
 * expensive (argon2) check it protects, not after.
 * KEYS: counters; ARGV: window seconds, then one limit per key. Returns {1, 0} or {0, retryAfter}.
 */
const RESERVE = `
for i, key in ipairs(KEYS) do
  local n = tonumber(redis.call('GET', key) or '0')
  if n >= tonumber(ARGV[i + 1]) then
    local ttl = redis.call('TTL', key)
    if ttl < 0 then ttl = tonumber(ARGV[1]) end
    return {0, ttl}
  end
end
for _, key in ipairs(KEYS) do
  if redis.call('INCR', key) == 1 then redis.call('EXPIRE', key, ARGV[1]) end
end
return {1, 0}`;

/** Gives back a reservation that turned out to be a success (never below zero). */
const REFUND = `
for _, key in ipairs(KEYS) do
  if tonumber(redis.call('GET', key) or '0') > 0 then redis.call('DECR', key) end
end
return 1`;

type Limited = Redis & {
  reserveAttempt(...args: Array<string | number>): Promise<[number, number]>;
  refundAttempt(...args: Array<string | number>): Promise<number>;
};

/**
 * Login and signup limits in Redis, shared by every replica: fixed windows counted per client address
 * group (IPv6 by /64) and, for logins, per account across all addresses. When Redis is unreachable the
 * limiter steps aside (login keeps working) and logs a warning: an outage of the cache must not lock
 * every user out. Token checks, by contrast, fail closed (see Authenticator).
 */
export class LoginRateLimiter {
  private readonly redis?: Limited;

  constructor(
    redis: Redis | undefined,
    private readonly opts: LoginRateLimitOptions,
    private readonly logger?: Logger,
  ) {
    if (redis) {
      redis.defineCommand('reserveAttempt', { lua: RESERVE });
      redis.defineCommand('refundAttempt', { lua: REFUND });
      this.redis = redis as Limited;
    }
  }

  private lastWarning = 0;

  /**
   * False while the client is not connected: we skip at once instead of waiting for the command
   * timeout on every login during an outage. Warns at most every 10 s.
   */
  private usable(): boolean {
    if (!this.redis) return false;
    if (this.redis.status === 'ready') return true;
    this.warn(new Error(`redis ${this.redis.status}`), 'rate limiter unavailable (redis); allowing the attempt');
    return false;
  }

  private warn(err: unknown, msg: string): void {
    const now = Date.now();
    if (now - this.lastWarning < 10_000) return;
    this.lastWarning = now;
    this.logger?.warn({ err: (err as Error).message }, msg);
  }

  private loginKeys(username: string, address: string): string[] {
    const user = encodeURIComponent(username.toLowerCase());
    return [`login:fail:${user}:${addressGroup(address)}`, `login:fail:${user}`];
  }

  private async reserve(keys: string[], limits: number[], windowSeconds: number, message: (s: number) => string): Promise<void> {
    if (!this.redis || !this.usable()) return;
    let res: [number, number];
    try {
      res = await this.redis.reserveAttempt(keys.length, ...keys, windowSeconds, ...limits);
    } catch (err) {
      this.warn(err, 'rate limiter unavailable (redis); allowing the attempt');
      return;
    }
    if (res[0] !== 1) {
      const retryAfter = res[1] > 0 ? res[1] : windowSeconds;
      throw rateLimited(message(retryAfter), retryAfter);
    }
  }

  /**
   * Counts a login attempt before the password is checked; throws RATE_LIMITED (with retryAfter
   * seconds) when this (username, address) pair or the account as a whole used up its attempts.
   */
  async reserveLogin(username: string, address: string): Promise<void> {
    await this.reserve(
      this.loginKeys(username, address),
      [this.opts.maxAttempts, this.opts.maxAccountAttempts],
      this.opts.windowSeconds,
      (s) => `Too many failed login attempts. Try again in ${s} seconds.`,
    );
  }

  /** The password was right: the reserved attempt is not a failure, and this address starts afresh. */
  async loginSucceeded(username: string, address: string): Promise<void> {
    if (!this.redis || !this.usable()) return;
    const [pair, account] = this.loginKeys(username, address);
    try {
      await Promise.all([this.redis.del(pair), this.redis.refundAttempt(1, account)]);
    } catch (err) {
      this.warn(err, 'could not reset the login counter (redis)');
    }
  }

  /** Counts a signup from this address group; throws RATE_LIMITED past the limit. */
  async reserveSignup(address: string): Promise<void> {
    await this.reserve(
      [`signup:${addressGroup(address)}`],
      [this.opts.maxSignups],
      this.opts.signupWindowSeconds,
      (s) => `Too many sign-ups from your network. Try again in ${s} seconds.`,
    );
  }
}
