import { Redis } from 'ioredis';
import jwt from 'jsonwebtoken';
import { AppError } from '../src/errors';
import { Authenticator, requireRole, requireUser } from '../src/auth';
import { JwtService, hasRole, type AuthUser } from '../src/jwt';
import { createLogger } from '../src/logger';
import { Disposables } from '../src/testing/disposables';
import { startRedisServer, type RedisServerHandle } from '../src/testing/redis-server';
import { testJwtKeys } from '../src/testing/jwt-keys';

const keys = testJwtKeys();
const user = { id: 'u1', username: 'ann', roles: ['STUDENT' as const] };

/** The AppError a call threw: code, message and extensions, for exact comparisons. */
async function refusal(p: Promise<unknown> | (() => unknown)): Promise<{ code: string; message: string }> {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (e) {
    if (!(e instanceof AppError)) throw e;
    return { code: e.code, message: e.message };
  }
  throw new Error('expected a refusal');
}

/** A pino logger whose lines the test reads. */
function capturedLogger() {
  const lines: Array<Record<string, unknown>> = [];
  const logger = createLogger('test', { level: 'debug', destination: { write: (s: string) => lines.push(JSON.parse(s)) } as never });
  return { logger, lines };
}

describe('JwtService.verify (cache of verified tokens)', () => {
  it('answers a repeated token from the cache with a copy the caller cannot change', () => {
    const svc = new JwtService({ keys, ttlSeconds: 60 });
    const token = svc.sign(user);
    const first = svc.verify(token);
    first.roles.push('OWNER');
    first.username = 'changed';
    const again = svc.verify(token);
    expect(again).toEqual({ id: 'u1', username: 'ann', roles: ['STUDENT'], jti: first.jti, exp: first.exp });
  });

  it('refuses a cached token once it has expired (now >= exp), with the expiry message', () => {
    const svc = new JwtService({ keys, ttlSeconds: 60 });
    const token = svc.sign(user);
    const { exp } = svc.verify(token);
    const now = jest.spyOn(Date, 'now');
    try {
      now.mockReturnValue(exp * 1000 - 1);
      expect(svc.verify(token).id).toBe('u1');
      now.mockReturnValue(exp * 1000);
      expect(() => svc.verify(token)).toThrow('Token has expired.');
      // dropped from the cache: jsonwebtoken itself refuses it now too
      expect(() => svc.verify(token)).toThrow('Token has expired.');
    } finally {
      now.mockRestore();
    }
  });

  it('refuses a signature-valid token whose claims are incomplete', () => {
    const svc = new JwtService({ keys });
    const sign = (claims: object, opts: jwt.SignOptions = {}) =>
      jwt.sign(claims, keys.privateKey!, { algorithm: 'RS256', issuer: 'dream-and-study', audience: 'dream-and-study-api', expiresIn: 60, ...opts });
    expect(() => svc.verify(sign({ username: 'a', roles: ['STUDENT'] }, { subject: 'u', jwtid: '' }))).toThrow('Invalid token.');
    expect(() => svc.verify(sign({ username: '', roles: ['STUDENT'] }, { subject: 'u', jwtid: 'j' }))).toThrow('Invalid token.');
    expect(() => svc.verify(sign({ username: 'a', roles: [] }, { subject: 'u', jwtid: 'j' }))).toThrow('Invalid token.');
    expect(() => svc.verify(sign({ username: 'a', roles: ['ADMIN'] }, { subject: 'u', jwtid: 'j' }))).toThrow('Invalid token.');
    expect(() => svc.verify(sign({ username: 'a', roles: ['STUDENT'] }, { jwtid: 'j' }))).toThrow('Invalid token.');
    expect(svc.verify(sign({ username: 'a', roles: ['OWNER', 'STUDENT'] }, { subject: 'u', jwtid: 'j' }))).toMatchObject({ id: 'u', roles: ['OWNER', 'STUDENT'], jti: 'j' });
  });

  it('refuses to sign without a private key, and signs with the configured ttl, issuer and audience', () => {
    expect(() => new JwtService({ keys: { publicKey: keys.publicKey } }).sign(user)).toThrow('This service has no JWT private key and cannot issue tokens.');
    const svc = new JwtService({ keys, ttlSeconds: 120, issuer: 'iss-x', audience: 'aud-x' });
    expect(svc.ttlSeconds).toBe(120);
    const claims = jwt.decode(svc.sign(user)) as { iss: string; aud: string; exp: number; iat: number; sub: string };
    expect({ iss: claims.iss, aud: claims.aud, ttl: claims.exp - claims.iat, sub: claims.sub }).toEqual({ iss: 'iss-x', aud: 'aud-x', ttl: 120, sub: 'u1' });
    expect(new JwtService({ keys }).ttlSeconds).toBe(3600);
    // a token for another audience is refused by a default service
    expect(() => new JwtService({ keys }).verify(svc.sign(user))).toThrow('Invalid token.');
  });
});

describe('Authenticator and the logout denylist', () => {
  const d = new Disposables();
  let server: RedisServerHandle;
  let redis: Redis;
  const svc = new JwtService({ keys, ttlSeconds: 600 });

  beforeAll(async () => {
    server = d.push(await startRedisServer(), (s) => s.stop());
    redis = d.push(new Redis(server.url), (r) => r.disconnect());
  });
  afterAll(() => d.disposeAll());

  /** A client of a port nothing listens on, failing every command at once. */
  function unreachableRedis(): Redis {
    const dead = new Redis('redis://127.0.0.1:1', { lazyConnect: true, maxRetriesPerRequest: 0, enableOfflineQueue: false, retryStrategy: () => null });
    dead.on('error', () => undefined);
    d.defer(() => dead.disconnect());
    return dead;
  }

  it('accepts a valid token, and refuses it once revoked, on every instance sharing the Redis', async () => {
    const a = new Authenticator(svc, redis);
    const b = new Authenticator(new JwtService({ keys }), new Redis(server.url));
    d.defer(() => (b as unknown as { redis: Redis }).redis.disconnect());
    const token = svc.sign(user);
    const u = await a.verify(token);
    expect(u).toMatchObject({ id: 'u1', username: 'ann', roles: ['STUDENT'] });
    expect(await a.isRevoked(u.jti)).toBe(false);
    await a.revoke(u);
    expect(await redis.exists(`jwt:revoked:${u.jti}`)).toBe(1);
    expect(await a.isRevoked(u.jti)).toBe(true);
    expect(await refusal(a.verify(token))).toEqual({ code: 'UNAUTHENTICATED', message: 'Token has been revoked.' });
    expect(await refusal(b.verify(token))).toEqual({ code: 'UNAUTHENTICATED', message: 'Token has been revoked.' });
    // another token of the same user is not affected
    expect((await a.verify(svc.sign(user))).id).toBe('u1');
  });

  it('keeps a revocation exactly until the token would have expired (at least 1 s)', async () => {
    const a = new Authenticator(svc, redis);
    const now = Math.floor(Date.now() / 1000);
    await a.revoke({ jti: 'ttl-1', exp: now + 300 });
    const ttl = await redis.ttl('jwt:revoked:ttl-1');
    expect(ttl).toBeGreaterThanOrEqual(298);
    expect(ttl).toBeLessThanOrEqual(300);
    await a.revoke({ jti: 'ttl-2', exp: now - 50 });
    expect(await redis.ttl('jwt:revoked:ttl-2')).toBe(1);
    await a.revoke({ jti: 'ttl-3', exp: now + 1 });
    expect(await redis.ttl('jwt:revoked:ttl-3')).toBe(1);
  });

  it('refuses an empty token and bad tokens with UNAUTHENTICATED before asking Redis', async () => {
    const a = new Authenticator(svc, redis);
    expect(await refusal(a.verify(''))).toEqual({ code: 'UNAUTHENTICATED', message: 'Invalid token.' });
    expect(await refusal(a.verify('garbage'))).toEqual({ code: 'UNAUTHENTICATED', message: 'Invalid token.' });
  });

  it('fromHeaders: no token → undefined (anonymous), a token in either header → its user, a bad one → UNAUTHENTICATED', async () => {
    const a = new Authenticator(svc, redis);
    const token = svc.sign(user);
    expect(await a.fromHeaders({})).toBeUndefined();
    expect((await a.fromHeaders({ authorization: `Bearer ${token}` }))?.id).toBe('u1');
    expect((await a.fromHeaders({ jwt: token }))?.id).toBe('u1');
    expect((await a.fromHeaders(new Headers({ authorization: `Bearer ${token}` })))?.id).toBe('u1');
    expect(await refusal(a.fromHeaders({ authorization: 'Bearer nope' }))).toEqual({ code: 'UNAUTHENTICATED', message: 'Invalid token.' });
  });

  it('without a token store: nothing reads as revoked, and a revocation is refused rather than faked', async () => {
    const a = new Authenticator(svc, undefined);
    const token = svc.sign(user);
    const u = await a.verify(token);
    expect(await refusal(a.revoke(u))).toEqual({ code: 'SERVICE_UNAVAILABLE', message: 'This service has no token store: cannot revoke tokens.' });
    expect(await a.isRevoked(u.jti)).toBe(false);
    expect((await a.verify(token)).id).toBe('u1');
  });

  it('with Redis unreachable: fails closed (503) and logs why', async () => {
    const { logger, lines } = capturedLogger();
    const dead = unreachableRedis();
    const a = new Authenticator(svc, dead, logger);
    const token = svc.sign(user);
    expect(await refusal(a.verify(token))).toEqual({ code: 'SERVICE_UNAVAILABLE', message: 'Cannot check the token right now (token store unavailable); try again shortly.' });
    expect(lines).toEqual([expect.objectContaining({ level: 40, msg: 'denylist unreachable: refusing authenticated calls (503)', err: expect.any(String) })]);
  });

  it('with Redis unreachable: one warning per 10 s however many calls fail, and none needed to fail closed', async () => {
    const { logger, lines } = capturedLogger();
    const dead = unreachableRedis();
    const a = new Authenticator(svc, dead, logger);
    const unavailable = { code: 'SERVICE_UNAVAILABLE', message: 'Cannot check the token right now (token store unavailable); try again shortly.' };
    const now = jest.spyOn(Date, 'now');
    try {
      now.mockReturnValue(1_000_000);
      expect(await refusal(a.isRevoked('j1'))).toEqual(unavailable);
      expect(await refusal(a.isRevoked('j2'))).toEqual(unavailable);
      now.mockReturnValue(1_009_999);
      expect(await refusal(a.isRevoked('j3'))).toEqual(unavailable);
      expect(lines).toHaveLength(1);
      now.mockReturnValue(1_010_000);
      expect(await refusal(a.isRevoked('j4'))).toEqual(unavailable);
      expect(lines).toHaveLength(2);
    } finally {
      now.mockRestore();
    }
    // a service given no logger still fails closed, with the same answer
    expect(await refusal(new Authenticator(svc, dead).isRevoked('j5'))).toEqual(unavailable);
  });

  it('a revocation the token store does not confirm is an error, not a success', async () => {
    // a store that answers without confirming (what ioredis resolves when SET did not happen)
    const unconfirmed = { set: async () => null } as unknown as Redis;
    expect(await refusal(new Authenticator(svc, unconfirmed).revoke({ jti: 'j', exp: Math.floor(Date.now() / 1000) + 60 }))).toEqual({
      code: 'SERVICE_UNAVAILABLE',
      message: 'The token store did not confirm the revocation.',
    });
  });
});

describe('requireUser / requireRole / hasRole', () => {
  const student: AuthUser = { id: 's', username: 's', roles: ['STUDENT'], jti: 'j', exp: 0 };
  it('answer UNAUTHENTICATED without a user and FORBIDDEN without the role', async () => {
    expect(await refusal(() => requireUser(undefined))).toEqual({
      code: 'UNAUTHENTICATED',
      message: 'Authentication required: send a JWT in the Authorization or jwt header.',
    });
    expect(requireUser(student)).toBe(student);
    expect(requireRole(student, 'STUDENT')).toBe(student);
    expect(await refusal(() => requireRole(student, 'OWNER'))).toEqual({ code: 'FORBIDDEN', message: 'Only a user with the OWNER role can do this.' });
    expect(await refusal(() => requireRole(undefined, 'OWNER'))).toEqual(expect.objectContaining({ code: 'UNAUTHENTICATED' }));
    expect(hasRole(undefined, 'STUDENT')).toBe(false);
    expect(hasRole(student, 'STUDENT')).toBe(true);
    expect(hasRole(student, 'OWNER')).toBe(false);
  });
});
