import { Redis } from 'ioredis';
import { AppError, createLogger } from '@dream/common';
import { Disposables, startRedisServer, type RedisServerHandle } from '@dream/common/testing';
import { LoginRateLimiter, clientAddress } from '../src/login-rate-limit';

/** A pino logger whose lines the test reads. */
function capturedLogger() {
  const lines: Array<Record<string, unknown>> = [];
  const logger = createLogger('test', { level: 'debug', destination: { write: (s: string) => lines.push(JSON.parse(s)) } as never });
  return { logger, lines };
}

async function refusal(p: Promise<unknown>): Promise<{ code: string; message: string; retryAfter: unknown } | undefined> {
  try {
    await p;
    return undefined;
  } catch (e) {
    if (!(e instanceof AppError)) throw e;
    return { code: e.code, message: e.message, retryAfter: e.extensions.retryAfter };
  }
}

describe('LoginRateLimiter (fixed window per username and address, in Redis)', () => {
  const d = new Disposables();
  let server: RedisServerHandle;
  let redis: Redis;
  let n = 0;
  const name = () => `user${++n}`;

  beforeAll(async () => {
    server = d.push(await startRedisServer(), (s) => s.stop());
    redis = d.push(new Redis(server.url), (r) => r.disconnect());
    await new Promise((r) => redis.once('ready', r));
  });
  afterAll(() => d.disposeAll());

  it('allows maxAttempts - 1 failures, refuses from the maxAttempts-th with RATE_LIMITED and the seconds left', async () => {
    const limiter = new LoginRateLimiter(redis, { maxAttempts: 3, windowSeconds: 900 });
    const u = name();
    for (let i = 0; i < 3; i++) {
      expect(await refusal(limiter.check(u, '10.0.0.1'))).toBeUndefined();
      await limiter.recordFailure(u, '10.0.0.1');
    }
    const r = await refusal(limiter.check(u, '10.0.0.1'));
    expect(r).toEqual({ code: 'RATE_LIMITED', message: expect.stringMatching(/^Too many failed login attempts\. Try again in \d+ seconds\.$/), retryAfter: expect.any(Number) });
    expect(r!.retryAfter).toBeGreaterThanOrEqual(898);
    expect(r!.retryAfter).toBeLessThanOrEqual(900);
    expect(r!.message).toBe(`Too many failed login attempts. Try again in ${String(r!.retryAfter)} seconds.`);
    // the window started at the first failure and is not extended by later ones
    const key = `login:fail:${u}:10.0.0.1`;
    expect(await redis.get(key)).toBe('3');
    expect(await redis.ttl(key)).toBeLessThanOrEqual(900);
  });

  it('counts per (username, address); usernames case-insensitively and encoded', async () => {
    const limiter = new LoginRateLimiter(redis, { maxAttempts: 2, windowSeconds: 60 });
    const u = name();
    await limiter.recordFailure(u.toUpperCase(), '10.0.0.1');
    await limiter.recordFailure(u, '10.0.0.1');
    expect((await refusal(limiter.check(u, '10.0.0.1')))?.code).toBe('RATE_LIMITED');
    expect((await refusal(limiter.check(u.toUpperCase(), '10.0.0.1')))?.code).toBe('RATE_LIMITED');
    // another address, another user: their own counters
    expect(await refusal(limiter.check(u, '10.0.0.2'))).toBeUndefined();
    expect(await refusal(limiter.check(name(), '10.0.0.1'))).toBeUndefined();
    await limiter.recordFailure('a:b c', '::1');
    expect(await redis.get('login:fail:a%3Ab%20c:::1')).toBe('1');
  });

  it('a success resets the pair; without a TTL left the full window is announced', async () => {
    const limiter = new LoginRateLimiter(redis, { maxAttempts: 1, windowSeconds: 77 });
    const u = name();
    await limiter.recordFailure(u, 'a');
    expect((await refusal(limiter.check(u, 'a')))?.code).toBe('RATE_LIMITED');
    await limiter.reset(u, 'a');
    expect(await refusal(limiter.check(u, 'a'))).toBeUndefined();
    expect(await redis.exists(`login:fail:${u}:a`)).toBe(0);
    // a counter without expiry (written by hand): retryAfter falls back to the window
    await redis.set(`login:fail:${u}:a`, '5');
    expect(await refusal(limiter.check(u, 'a'))).toEqual({ code: 'RATE_LIMITED', message: 'Too many failed login attempts. Try again in 77 seconds.', retryAfter: 77 });
  });

  it('the window expires: the first failure sets the TTL, later failures keep it', async () => {
    const limiter = new LoginRateLimiter(redis, { maxAttempts: 5, windowSeconds: 100 });
    const u = name();
    await limiter.recordFailure(u, 'a');
    const key = `login:fail:${u}:a`;
    await redis.expire(key, 50);
    await limiter.recordFailure(u, 'a');
    expect(await redis.get(key)).toBe('2');
    expect(await redis.ttl(key)).toBeLessThanOrEqual(50);
    expect(await redis.ttl(key)).toBeGreaterThan(0);
  });

  it('without Redis, or with Redis not ready, every attempt is allowed and nothing is recorded; the warning is rate limited', async () => {
    const none = new LoginRateLimiter(undefined, { maxAttempts: 1, windowSeconds: 60 });
    await none.recordFailure('x', 'a');
    await none.recordFailure('x', 'a');
    expect(await refusal(none.check('x', 'a'))).toBeUndefined();
    await none.reset('x', 'a');

    const { logger, lines } = capturedLogger();
    const down = new Redis('redis://127.0.0.1:1', { lazyConnect: true, enableOfflineQueue: false, retryStrategy: () => null });
    down.on('error', () => undefined);
    d.defer(() => down.disconnect());
    const limiter = new LoginRateLimiter(down, { maxAttempts: 1, windowSeconds: 60 }, logger);
    await limiter.recordFailure('x', 'a');
    await limiter.recordFailure('x', 'a');
    expect(await refusal(limiter.check('x', 'a'))).toBeUndefined();
    await limiter.reset('x', 'a');
    expect(lines).toEqual([expect.objectContaining({ level: 40, msg: 'login rate limiter unavailable (redis); allowing the attempt', err: 'redis wait' })]);
    // it did not even try: no command was sent, so the lazy client never started connecting
    expect(down.status).toBe('wait');
    // and a limiter without a logger stays quiet instead of failing the login
    const quiet = new LoginRateLimiter(down, { maxAttempts: 1, windowSeconds: 60 });
    await quiet.recordFailure('x', 'a');
    expect(await refusal(quiet.check('x', 'a'))).toBeUndefined();
  });

  it('warns at most once per 10 s', async () => {
    const { logger, lines } = capturedLogger();
    const down = new Redis('redis://127.0.0.1:1', { lazyConnect: true, enableOfflineQueue: false, retryStrategy: () => null });
    down.on('error', () => undefined);
    d.defer(() => down.disconnect());
    const limiter = new LoginRateLimiter(down, { maxAttempts: 1, windowSeconds: 60 }, logger);
    const now = jest.spyOn(Date, 'now');
    try {
      now.mockReturnValue(1_000_000);
      await limiter.check('x', 'a');
      now.mockReturnValue(1_009_999);
      await limiter.check('x', 'a');
      expect(lines).toHaveLength(1);
      now.mockReturnValue(1_010_000);
      await limiter.check('x', 'a');
      expect(lines).toHaveLength(2);
    } finally {
      now.mockRestore();
    }
  });

  it('announces the seconds left in the window, not the window length', async () => {
    const limiter = new LoginRateLimiter(redis, { maxAttempts: 1, windowSeconds: 900 });
    const u = name();
    await limiter.recordFailure(u, 'a');
    await redis.expire(`login:fail:${u}:a`, 500);
    const r = await refusal(limiter.check(u, 'a'));
    expect(r?.retryAfter).toBeGreaterThanOrEqual(499);
    expect(r?.retryAfter).toBeLessThanOrEqual(500);
  });

  it('a Redis error while recording or on a clean call is logged; a clean call logs nothing', async () => {
    const { logger, lines } = capturedLogger();
    const limiter = new LoginRateLimiter(redis, { maxAttempts: 3, windowSeconds: 60 }, logger);
    const u = name();
    await limiter.recordFailure(u, 'a');
    await limiter.check(u, 'a');
    await limiter.reset(u, 'a');
    expect(lines).toEqual([]);
    // INCR on a key of the wrong type fails inside the transaction
    await redis.hset(`login:fail:${u}:b`, 'f', '1');
    await limiter.recordFailure(u, 'b');
    expect(lines).toEqual([expect.objectContaining({ level: 40, msg: 'could not record a failed login (redis)', err: expect.stringMatching(/WRONGTYPE/) })]);
  });

  it('a Redis error during a call allows the attempt and logs it', async () => {
    const { logger, lines } = capturedLogger();
    const broken = new Redis(server.url);
    d.defer(() => broken.disconnect());
    await new Promise((r) => broken.once('ready', r));
    const limiter = new LoginRateLimiter(broken, { maxAttempts: 1, windowSeconds: 60 }, logger);
    const u = name();
    // a key of the wrong type makes GET fail inside the transaction
    await redis.hset(`login:fail:${u}:a`, 'f', '1');
    expect(await refusal(limiter.check(u, 'a'))).toBeUndefined();
    expect(lines).toEqual([expect.objectContaining({ msg: 'login rate limiter unavailable (redis); allowing the attempt', err: expect.stringMatching(/WRONGTYPE/) })]);
  });
});

describe('clientAddress', () => {
  const req = (headers: Record<string, string | string[] | undefined>, remoteAddress?: string) => ({ headers, socket: { remoteAddress } }) as never;
  it('takes the first x-forwarded-for entry, else the socket peer, else "unknown"', () => {
    expect(clientAddress(req({ 'x-forwarded-for': ' 1.2.3.4 , 5.6.7.8' }, '9.9.9.9'))).toBe('1.2.3.4');
    expect(clientAddress(req({ 'x-forwarded-for': ['7.7.7.7, 1.1.1.1', '8.8.8.8'] }, '9.9.9.9'))).toBe('7.7.7.7');
    expect(clientAddress(req({ 'x-forwarded-for': '' }, '9.9.9.9'))).toBe('9.9.9.9');
    expect(clientAddress(req({}, '9.9.9.9'))).toBe('9.9.9.9');
    expect(clientAddress(req({}))).toBe('unknown');
    expect(clientAddress({ headers: {} } as never)).toBe('unknown');
  });
});
