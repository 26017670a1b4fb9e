import { generateKeyPairSync } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { AppError } from '../src/errors';
import { JwtService, extractToken } from '../src/jwt';
import { testJwtKeys } from '../src/testing/jwt-keys';

const keys = testJwtKeys();
const svc = new JwtService({ keys, ttlSeconds: 60 });
const user = { id: 'u1', username: 'john', roles: ['STUDENT' as const] };

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    return e instanceof AppError ? e.code : 'OTHER';
  }
  return undefined;
}

describe('JwtService', () => {
  it('issues RS256 tokens that verify with the claims', () => {
    const token = svc.sign(user);
    expect(jwt.decode(token, { complete: true })?.header.alg).toBe('RS256');
    const u = svc.verify(token);
    expect(u).toMatchObject({ id: 'u1', username: 'john', roles: ['STUDENT'] });
    expect(u.jti).toBeTruthy();
  });

  it('refuses a tampered payload', () => {
    const [h, , s] = svc.sign(user).split('.');
    const forged = Buffer.from(JSON.stringify({ sub: 'u1', username: 'john', roles: ['OWNER'] })).toString('base64url');
    expect(codeOf(() => svc.verify(`${h}.${forged}.${s}`))).toBe('UNAUTHENTICATED');
  });

  it('refuses alg none and HS256 signed with the public key', () => {
    const none = jwt.sign({ username: 'john', roles: ['OWNER'] }, '', { algorithm: 'none', subject: 'u1' } as jwt.SignOptions);
    expect(codeOf(() => svc.verify(none))).toBe('UNAUTHENTICATED');
    const header = Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT' })).toString('base64url');
    const body = Buffer.from(
      JSON.stringify({ sub: 'u1', username: 'john', roles: ['OWNER'], jti: 'x', iss: 'dream-and-study', aud: 'dream-and-study-api', exp: Math.floor(Date.now() / 1000) + 60 }),
    ).toString('base64url');
    const { createHmac } = require('node:crypto') as typeof import('node:crypto');
    const sig = createHmac('sha256', keys.publicKey).update(`${header}.${body}`).digest('base64url');
    expect(codeOf(() => svc.verify(`${header}.${body}.${sig}`))).toBe('UNAUTHENTICATED');
  });

  it('refuses expired, not-yet-valid, wrong issuer/audience and another key', () => {
    const base = { username: 'john', roles: ['STUDENT'] };
    const pk = keys.privateKey as string;
    const opts = { algorithm: 'RS256' as const, subject: 'u1', jwtid: 'j', issuer: 'dream-and-study', audience: 'dream-and-study-api' };
    const expired = jwt.sign({ ...base, exp: Math.floor(Date.now() / 1000) - 10 }, pk, opts);
    expect(() => svc.verify(expired)).toThrow('Token has expired.');
    const future = jwt.sign(base, pk, { ...opts, notBefore: 3600 });
    expect(() => svc.verify(future)).toThrow('Token is not valid yet.');
    expect(codeOf(() => svc.verify(jwt.sign(base, pk, { ...opts, issuer: 'evil' })))).toBe('UNAUTHENTICATED');
    expect(codeOf(() => svc.verify(jwt.sign(base, pk, { ...opts, audience: 'other' })))).toBe('UNAUTHENTICATED');
    const other = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    expect(codeOf(() => svc.verify(jwt.sign(base, other, opts)))).toBe('UNAUTHENTICATED');
  });

  it('reads the token from Authorization or the spec jwt header', () => {
    expect(extractToken({ authorization: 'Bearer abc' })).toBe('abc');
    expect(extractToken({ jwt: 'abc' })).toBe('abc');
    expect(extractToken({ jwt: 'Bearer abc' })).toBe('abc');
    expect(extractToken({})).toBeUndefined();
  });
});
