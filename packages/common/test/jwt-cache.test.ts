import jwt from 'jsonwebtoken';
import { JwtService, extractToken, tokenFromValue } from '../src/jwt';
import { testJwtKeys } from '../src/testing/jwt-keys';

const keys = testJwtKeys();
const user = { id: 'u1', username: 'ann', roles: ['STUDENT' as const] };

describe('JwtService: the cache of verified tokens', () => {
  afterEach(() => jest.restoreAllMocks());

  it('verifies the signature of a token once, then answers repeats from the cache', () => {
    const svc = new JwtService({ keys });
    const a = svc.sign(user);
    const b = svc.sign(user);
    const spy = jest.spyOn(jwt, 'verify');
    svc.verify(a);
    svc.verify(a);
    svc.verify(a);
    expect(spy).toHaveBeenCalledTimes(1);
    svc.verify(b);
    expect(spy).toHaveBeenCalledTimes(2);
  });

  it('a refused token is not cached: every attempt is verified again', () => {
    const svc = new JwtService({ keys });
    const spy = jest.spyOn(jwt, 'verify');
    for (let i = 0; i < 3; i++) expect(() => svc.verify('not.a.token')).toThrow('Invalid token.');
    expect(spy).toHaveBeenCalledTimes(3);
  });

  it('an expired cached token is dropped from the cache', () => {
    const svc = new JwtService({ keys, ttlSeconds: 60 });
    const token = svc.sign(user);
    const { exp } = svc.verify(token);
    const spy = jest.spyOn(jwt, 'verify');
    jest.spyOn(Date, 'now').mockReturnValue(exp * 1000);
    expect(() => svc.verify(token)).toThrow('Token has expired.');
    expect(spy).toHaveBeenCalledTimes(0); // answered from the cache
    expect(() => svc.verify(token)).toThrow('Token has expired.');
    expect(spy).toHaveBeenCalledTimes(1); // gone from the cache: jsonwebtoken refused it
  });

  it('is bounded: when full, the oldest entry leaves first', () => {
    const svc = new JwtService({ keys });
    (JwtService as unknown as { VERIFIED_MAX: number }).VERIFIED_MAX = 2;
    try {
      const [t1, t2, t3] = [svc.sign(user), svc.sign(user), svc.sign(user)];
      const spy = jest.spyOn(jwt, 'verify');
      svc.verify(t1);
      svc.verify(t2);
      svc.verify(t2);
      expect(spy).toHaveBeenCalledTimes(2);
      svc.verify(t3); // full: t1, the oldest, leaves
      svc.verify(t2);
      svc.verify(t3);
      expect(spy).toHaveBeenCalledTimes(3);
      svc.verify(t1);
      expect(spy).toHaveBeenCalledTimes(4);
    } finally {
      (JwtService as unknown as { VERIFIED_MAX: number }).VERIFIED_MAX = 10_000;
    }
  });
});

describe('extractToken', () => {
  it('takes Bearer in any case and spacing, a bare Authorization value, or the jwt header with or without Bearer', () => {
    expect(extractToken({ authorization: '  bearer   abc  ' })).toBe('abc');
    expect(extractToken({ authorization: 'BEARER abc' })).toBe('abc');
    expect(extractToken({ authorization: 'abc' })).toBe('abc');
    expect(extractToken({ authorization: ' Token abc ' })).toBe('Token abc');
    expect(extractToken({ jwt: 'Bearer   abc ' })).toBe('abc');
    expect(extractToken({ jwt: 'bearer abc' })).toBe('abc');
    expect(extractToken({ jwt: ' abc ' })).toBe('abc');
    expect(extractToken({ authorization: 'Bearer a', jwt: 'b' })).toBe('a');
    expect(extractToken({ authorization: ['Bearer first', 'Bearer second'] })).toBe('first');
    expect(extractToken({ jwt: ['one', 'two'] })).toBe('one');
    expect(extractToken({ authorization: '', jwt: 'j' })).toBe('j');
    expect(extractToken({ authorization: undefined })).toBeUndefined();
    expect(extractToken(new Headers({ jwt: 'h' }))).toBe('h');
    expect(extractToken(new Headers())).toBeUndefined();
  });
});

describe('tokenFromValue', () => {
  it('reads a bare or Bearer-prefixed token and nothing else', () => {
    expect(tokenFromValue(' Bearer  abc ')).toBe('abc');
    expect(tokenFromValue('abc')).toBe('abc');
    // only a leading scheme is taken off: "Bearer " further in is part of what was sent
    expect(tokenFromValue('abc Bearer def')).toBe('abc Bearer def');
    expect(tokenFromValue('  ')).toBeUndefined();
    expect(tokenFromValue(42)).toBeUndefined();
    expect(tokenFromValue(undefined)).toBeUndefined();
  });
});
