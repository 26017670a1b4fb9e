import { Redis } from 'ioredis';
import { AppError, createLogger } from '@dream/common';
import { Disposables, startRedisServer, type RedisServerHandle } from '@dream/common/testing';
import { LoginRateLimiter, type LoginRateLimitOptions } from '../src/login-rate-limit';

// The limiter on its own against a private redis-server (the Lua scripts are the real ones), without
// a users service: the limits per pair and per account, what a success gives back, the signup limit,
// and stepping aside when Redis cannot answer. abuse-limits.test.ts checks the same through GraphQL.

const OPTS: LoginRateLimitOptions = { maxAttempts: 2, maxAccountAttempts: 3, windowSeconds: 60, maxSignups: 2, signupWindowSeconds: 120 };

const d = new Disposables();
let server: RedisServerHandle;
let redis: Redis;
beforeAll(async () => {
  server = await startRedisServer();
  d.defer(() => server.stop());
  redis = new Redis(server.url, { maxRetriesPerRequest: 1 });
  d.defer(() => redis.quit());
});
afterAll(() => d.disposeAll());
beforeEach(() => redis.flushall());

/** A pino logger whose warnings the test reads. */
function captured() {
  const warnings: Array<{ msg: string; err: string }> = [];
  const logger = createLogger('test', { level: 'warn', destination: { write: (s: string) => warnings.push(JSON.parse(s)) } as never });
  return { logger, warnings };
}

/** 'ok', or the refusal's code, message and retryAfter. */
async function outcome(p: Promise<void>): Promise<string> {
  try {
    await p;
    return 'ok';
  } catch (e) {
    if (!(e instanceof AppError)) throw e;
    return `${e.code} ${String(e.extensions.retryAfter)}: ${e.message}`;
  }
}

const refusedLogin = (s: number) => `RATE_LIMITED ${s}: Too many failed login attempts. Try again in ${s} seconds.`;

describe('login attempts', () => {
  it(`allows ${OPTS.maxAttempts} per (username, address), then refuses with the seconds left of the window`, async () => {
    const limiter = new LoginRateLimiter(redis, OPTS);
    expect(await outcome(limiter.reserveLogin('ann', '10.0.0.1'))).toBe('ok');
    expect(await outcome(limiter.reserveLogin('ann', '10.0.0.1'))).toBe('ok');
    const refused = await outcome(limiter.reserveLogin('ann', '10.0.0.1'));
    // the window just started: 60 s left, or 59 on a slow machine
    expect([refusedLogin(60), refusedLogin(59)]).toContain(refused);
    // another user from the same address, and the same user's username in other case, are counted apart / together
    expect(await outcome(limiter.reserveLogin('bob', '10.0.0.1'))).toBe('ok');
    expect(await outcome(limiter.reserveLogin('ANN', '10.0.0.1'))).toMatch(/^RATE_LIMITED/);
  });

  it(`stops a guess spread over addresses at ${OPTS.maxAccountAttempts} per account; refused attempts are not counted`, async () => {
    const limiter = new LoginRateLimiter(redis, OPTS);
    const results = [];
    for (const address of ['10.0.0.1', '10.0.0.1', '10.0.0.1', '10.0.0.2', '10.0.0.2', '10.0.0.3']) {
      results.push((await outcome(limiter.reserveLogin('ann', address))).slice(0, 12));
    }
    // 10.0.0.1's third try hit its pair limit and took nothing from the account's three
    expect(results).toEqual(['ok', 'ok', 'RATE_LIMITED', 'ok', 'RATE_LIMITED', 'RATE_LIMITED']);
    expect(await outcome(limiter.reserveLogin('bob', '10.0.0.3'))).toBe('ok');
  });

  it('counts an IPv6 /64 as one address', async () => {
    const limiter = new LoginRateLimiter(redis, { ...OPTS, maxAccountAttempts: 10 });
    expect(await outcome(limiter.reserveLogin('ann', '2001:db8:1:2::1'))).toBe('ok');
    expect(await outcome(limiter.reserveLogin('ann', '2001:db8:1:2:ffff::9'))).toBe('ok');
    expect(await outcome(limiter.reserveLogin('ann', '2001:db8:1:2::77'))).toMatch(/^RATE_LIMITED/);
    expect(await outcome(limiter.reserveLogin('ann', '2001:db8:1:3::1'))).toBe('ok');
  });

  it('answers the seconds the fullest counter has left', async () => {
    const limiter = new LoginRateLimiter(redis, OPTS);
    await redis.set('login:fail:ann', String(OPTS.maxAccountAttempts), 'EX', 30);
    expect([refusedLogin(30), refusedLogin(29)]).toContain(await outcome(limiter.reserveLogin('ann', '10.0.0.9')));
  });

  it('answers the whole window when a counter at its limit has no expiry', async () => {
    const limiter = new LoginRateLimiter(redis, OPTS);
    await redis.set('login:fail:ann', String(OPTS.maxAccountAttempts));
    expect(await outcome(limiter.reserveLogin('ann', '10.0.0.9'))).toBe(refusedLogin(60));
  });

  it('a success clears the address and gives its attempt back to the account, never below zero', async () => {
    const limiter = new LoginRateLimiter(redis, { ...OPTS, maxAccountAttempts: 4 });
    await limiter.reserveLogin('ann', '10.0.0.1'); // a wrong password
    await limiter.reserveLogin('ann', '10.0.0.1'); // the right one
    await limiter.loginSucceeded('ann', '10.0.0.1');
    // the address starts afresh (two more tries) and the account counts one failure of its four
    const after = [];
    for (const address of ['10.0.0.1', '10.0.0.1', '10.0.0.2', '10.0.0.2']) after.push((await outcome(limiter.reserveLogin('ann', address))).slice(0, 12));
    expect(after).toEqual(['ok', 'ok', 'ok', 'RATE_LIMITED']);

    // successes with nothing reserved give nothing extra
    for (let i = 0; i < 3; i++) await limiter.loginSucceeded('cid', '10.0.0.5');
    const results = [];
    for (const address of ['10.0.0.6', '10.0.0.6', '10.0.0.7', '10.0.0.7', '10.0.0.8']) results.push((await outcome(limiter.reserveLogin('cid', address))).slice(0, 12));
    expect(results).toEqual(['ok', 'ok', 'ok', 'ok', 'RATE_LIMITED']);
  });
});

describe('signups', () => {
  it(`allows ${OPTS.maxSignups} per address group in their own window`, async () => {
    const limiter = new LoginRateLimiter(redis, OPTS);
    expect(await outcome(limiter.reserveSignup('10.0.0.1'))).toBe('ok');
    expect(await outcome(limiter.reserveSignup('::ffff:10.0.0.1'))).toBe('ok');
    const refused = await outcome(limiter.reserveSignup('10.0.0.1'));
    expect(refused).toMatch(/^RATE_LIMITED (120|119): Too many sign-ups from your network\. Try again in (120|119) seconds\.$/);
    expect(await outcome(limiter.reserveSignup('10.0.0.2'))).toBe('ok');
    // logins are limited apart from signups
    expect(await outcome(limiter.reserveLogin('ann', '10.0.0.1'))).toBe('ok');
  });
});

describe('when Redis cannot answer, the limiter steps aside', () => {
  it('without Redis at all, every attempt is allowed', async () => {
    const limiter = new LoginRateLimiter(undefined, { ...OPTS, maxAttempts: 1, maxSignups: 1 });
    for (let i = 0; i < 3; i++) {
      expect(await outcome(limiter.reserveLogin('ann', '10.0.0.1'))).toBe('ok');
      expect(await outcome(limiter.reserveSignup('10.0.0.1'))).toBe('ok');
      await limiter.loginSucceeded('ann', '10.0.0.1');
    }
  });

  it('while disconnected: allowed at once, with one warning per 10 s', async () => {
    const { logger, warnings } = captured();
    const down = new Redis(server.url, { lazyConnect: true });
    const limiter = new LoginRateLimiter(down, { ...OPTS, maxAttempts: 1, maxSignups: 1 }, logger);
    const now = jest.spyOn(Date, 'now');
    try {
      now.mockReturnValue(1_000_000);
      for (let i = 0; i < 3; i++) {
        expect(await outcome(limiter.reserveLogin('ann', '10.0.0.1'))).toBe('ok');
        expect(await outcome(limiter.reserveSignup('10.0.0.1'))).toBe('ok');
        await limiter.loginSucceeded('ann', '10.0.0.1');
      }
      expect(warnings.map((w) => [w.msg, w.err])).toEqual([['rate limiter unavailable (redis); allowing the attempt', 'redis wait']]);
      now.mockReturnValue(1_009_999);
      await limiter.reserveLogin('ann', '10.0.0.1');
      expect(warnings).toHaveLength(1);
      now.mockReturnValue(1_010_000);
      await limiter.reserveLogin('ann', '10.0.0.1');
      expect(warnings).toHaveLength(2);
    } finally {
      now.mockRestore();
      down.disconnect();
    }
    // nothing was counted while it stepped aside
    expect(await redis.keys('*')).toEqual([]);
    // a limiter given no logger steps aside the same way
    const quiet = new LoginRateLimiter(down, { ...OPTS, maxAttempts: 1 });
    expect(await outcome(quiet.reserveLogin('ann', '10.0.0.1'))).toBe('ok');
    expect(await outcome(quiet.reserveLogin('ann', '10.0.0.1'))).toBe('ok');
  });

  it('a failing script allows the attempt and warns; a failing reset is logged, not thrown', async () => {
    const { logger, warnings } = captured();
    const limiter = new LoginRateLimiter(redis, OPTS, logger);
    // a counter that is not a number makes the scripts fail inside Redis
    await redis.set('login:fail:ann', 'not-a-number');
    for (let i = 0; i < 4; i++) expect(await outcome(limiter.reserveLogin('ann', '10.0.0.1'))).toBe('ok');
    expect(warnings.map((w) => w.msg)).toEqual(['rate limiter unavailable (redis); allowing the attempt']);
    expect(warnings[0].err).toMatch(/ERR|script|Lua|compare/i);

    const quiet = captured();
    const other = new LoginRateLimiter(redis, OPTS, quiet.logger);
    await expect(other.loginSucceeded('ann', '10.0.0.1')).resolves.toBeUndefined();
    expect(quiet.warnings.map((w) => w.msg)).toEqual(['could not reset the login counter (redis)']);
  });
});
