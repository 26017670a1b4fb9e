import jwtLib from 'jsonwebtoken';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { JWT_AUDIENCE, JWT_ISSUER } from '@dream/common';
import { INVALID_CREDENTIALS } from '../src/resolvers';
import { useStack } from '@dream/testenv';
import { LOGIN, ME, SIGNUP, bearer, firstError, newUser, type TestUsers } from './helpers';

const stack = useStack({ discovery: false });
let t: TestUsers;
const MAX_ATTEMPTS = 3;

beforeAll(async () => {
  t = await stack.subgraph('users', { env: { LOGIN_MAX_ATTEMPTS: String(MAX_ATTEMPTS), LOGIN_WINDOW_SECONDS: '600' } });
});

async function signup(over: Parameters<typeof newUser>[0] = {}) {
  const input = newUser(over);
  const r = await t.gql(SIGNUP, { input });
  expect(r.body.errors).toBeUndefined();
  return { input, jwt: r.body.data!.signup.jwt as string, user: r.body.data!.signup.user };
}

describe('signup, login, me', () => {
  it('signs up, logs in and answers me with the same user', async () => {
    const { input, jwt, user } = await signup({ roles: ['STUDENT', 'OWNER'], email: 'Mixed.Case@Example.org' });
    expect(user).toMatchObject({ username: input.username, email: 'mixed.case@example.org', roles: ['STUDENT', 'OWNER'] });
    expect(new Date(user.createdAt).toISOString()).toBe(user.createdAt);

    const login = await t.gql(LOGIN, { username: input.username, password: input.password });
    expect(login.status).toBe(200);
    expect(login.body.data!.login.user.id).toBe(user.id);

    for (const token of [jwt, login.body.data!.login.jwt]) {
      const me = await t.gql(ME, {}, bearer(token));
      expect(me.body.data!.me).toEqual(user);
    }
    // the spec's `jwt:` header works too
    const viaJwtHeader = await t.gql(ME, {}, { jwt: jwt });
    expect(viaJwtHeader.body.data!.me.id).toBe(user.id);
  });

  it('me is null without a token', async () => {
    const me = await t.gql(ME);
    expect(me.body).toEqual({ data: { me: null } });
  });

  it('issues RS256 tokens carrying id, username and roles', async () => {
    const { jwt, user } = await signup({ roles: ['OWNER'] });
    const decoded = jwtLib.decode(jwt, { complete: true })!;
    expect(decoded.header.alg).toBe('RS256');
    expect(decoded.payload).toMatchObject({ sub: user.id, username: user.username, roles: ['OWNER'] });
  });

  it('stores an argon2id hash, never the password', async () => {
    const { input, user } = await signup();
    const rec = await t.service.repo.findById(user.id);
    expect(rec!.passwordHash).toMatch(/^\$argon2id\$v=19\$m=\d+,t=\d+,p=\d+\$/);
    expect(rec!.passwordHash).not.toContain(input.password);
  });

  it('deduplicates roles', async () => {
    const { user } = await signup({ roles: ['OWNER', 'OWNER', 'STUDENT'] });
    expect(user.roles).toEqual(['STUDENT', 'OWNER']);
  });
});

describe('email privacy', () => {
  it('shows email only to its owner', async () => {
    const a = await signup();
    const b = await signup();
    const q = `query($id: ID!) { user(id: $id) { id username email } }`;
    const asOther = await t.gql(q, { id: a.user.id }, bearer(b.jwt));
    expect(asOther.body.data!.user).toEqual({ id: a.user.id, username: a.input.username, email: null });
    const anonymous = await t.gql(q, { id: a.user.id });
    expect(anonymous.body.data!.user.email).toBeNull();
    const asSelf = await t.gql(q, { id: a.user.id }, bearer(a.jwt));
    expect(asSelf.body.data!.user.email).toBe(a.input.email);
  });

  it('user(id) is null for an unknown id', async () => {
    const r = await t.gql(`{ user(id: "00000000-0000-0000-0000-000000000000") { id } }`);
    expect(r.body).toEqual({ data: { user: null } });
  });
});

describe('duplicates', () => {
  it('duplicate username → CONFLICT naming username', async () => {
    const a = await signup();
    const r = await t.gql(SIGNUP, { input: newUser({ username: a.input.username }) });
    const e = firstError(r);
    expect(e.extensions!.code).toBe('CONFLICT');
    expect(e.extensions!.fields).toEqual([{ field: 'username', message: `The username "${a.input.username}" is already taken.` }]);
    expect(r.status).toBe(409);
  });

  it('duplicate email (any case) → CONFLICT naming email', async () => {
    const a = await signup();
    const r = await t.gql(SIGNUP, { input: newUser({ email: a.input.email.toUpperCase() }) });
    const e = firstError(r);
    expect(e.extensions!.code).toBe('CONFLICT');
    expect(e.extensions!.fields).toEqual([{ field: 'email', message: 'An account with this email already exists.' }]);
  });

  it('both taken → both fields', async () => {
    const a = await signup();
    const r = await t.gql(SIGNUP, { input: newUser({ username: a.input.username, email: a.input.email }) });
    expect(firstError(r).extensions!.fields.map((f: { field: string }) => f.field)).toEqual(['username', 'email']);
  });
});

describe('validation → BAD_USER_INPUT with field messages', () => {
  const cases: Array<[string, Record<string, unknown>, string, string]> = [
    ['username too short', { username: 'ab' }, 'username', 'Username must be 3 to 32 characters long.'],
    ['username too long', { username: 'a'.repeat(33) }, 'username', 'Username must be 3 to 32 characters long.'],
    ['username bad characters', { username: 'john doe!' }, 'username', "Username may only contain letters, digits, '_', '.' and '-'."],
    ['email invalid', { email: 'not-an-email' }, 'email', 'Email must be a valid email address.'],
    ['email empty', { email: '' }, 'email', 'Email must be a valid email address.'],
    ['password too short', { password: 'short7!' }, 'password', 'Password must be at least 8 characters long.'],
    ['password too long', { password: 'x'.repeat(129) }, 'password', 'Password must be at most 128 characters long.'],
    ['roles empty', { roles: [] }, 'roles', 'Roles must contain at least one of STUDENT or OWNER.'],
  ];
  it.each(cases)('%s', async (_name, over, field, message) => {
    const r = await t.gql(SIGNUP, { input: newUser(over as never) });
    const e = firstError(r);
    expect(e.extensions!.code).toBe('BAD_USER_INPUT');
    expect(e.extensions!.fields).toEqual([{ field, message }]);
    expect(e.message).toContain(message);
    expect(r.status).toBe(400);
  });

  it('accepts the boundaries (3 and 32 chars, 8-char password, all allowed characters)', async () => {
    for (const username of [`a${process.pid % 10}b`, `A.b-c_${'9'.repeat(26)}`]) {
      const r = await t.gql(SIGNUP, { input: newUser({ username, password: '12345678' }) });
      expect(r.body.errors).toBeUndefined();
    }
  });

  it('reports every bad field at once', async () => {
    const r = await t.gql(SIGNUP, { input: { username: 'x', password: '1', email: 'nope', roles: [] } });
    const e = firstError(r);
    expect(e.extensions!.code).toBe('BAD_USER_INPUT');
    expect(e.extensions!.fields.map((f: { field: string }) => f.field)).toEqual(['username', 'password', 'email', 'roles']);
  });

  it('an unknown role is refused by the schema', async () => {
    const r = await t.gql(SIGNUP, { input: newUser({ roles: ['ADMIN'] }) });
    expect(firstError(r).extensions!.code).toBe('BAD_USER_INPUT');
  });
});

describe('login failures', () => {
  it('unknown user and wrong password give the identical error', async () => {
    const a = await signup();
    const wrong = await t.gql(LOGIN, { username: a.input.username, password: 'wrong password' }, { 'x-forwarded-for': '10.0.0.1' });
    const unknown = await t.gql(LOGIN, { username: 'nobody_here', password: 'wrong password' }, { 'x-forwarded-for': '10.0.0.1' });
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    expect(wrong.body).toEqual(unknown.body);
    expect(firstError(wrong)).toMatchObject({ message: INVALID_CREDENTIALS, extensions: { code: 'UNAUTHENTICATED' } });
  });

  it(`RATE_LIMITED after ${MAX_ATTEMPTS} failures per username and address; other addresses unaffected; success resets`, async () => {
    const a = await signup();
    const from = (ip: string) => ({ 'x-forwarded-for': `${ip}, 10.9.9.9` });
    for (let i = 0; i < MAX_ATTEMPTS; i++) {
      const r = await t.gql(LOGIN, { username: a.input.username, password: 'wrong password' }, from('192.0.2.1'));
      expect(firstError(r).extensions!.code).toBe('UNAUTHENTICATED');
    }
    // now even the right password is refused from that address
    const limited = await t.gql(LOGIN, { username: a.input.username, password: a.input.password }, from('192.0.2.1'));
    const e = firstError(limited);
    expect(e.extensions!.code).toBe('RATE_LIMITED');
    expect(limited.status).toBe(429);
    expect(e.extensions!.retryAfter).toBeGreaterThan(0);
    expect(e.extensions!.retryAfter).toBeLessThanOrEqual(600);

    // another client address is a different bucket
    const fromB = await t.gql(LOGIN, { username: a.input.username, password: 'wrong password' }, from('192.0.2.2'));
    expect(firstError(fromB).extensions!.code).toBe('UNAUTHENTICATED');
    const okB = await t.gql(LOGIN, { username: a.input.username, password: a.input.password }, from('192.0.2.2'));
    expect(okB.body.errors).toBeUndefined();

    // success reset B's counter: MAX_ATTEMPTS-1 failures do not lock it
    for (let i = 0; i < MAX_ATTEMPTS - 1; i++) {
      await t.gql(LOGIN, { username: a.input.username, password: 'wrong password' }, from('192.0.2.2'));
    }
    const stillOk = await t.gql(LOGIN, { username: a.input.username, password: a.input.password }, from('192.0.2.2'));
    expect(stillOk.body.errors).toBeUndefined();
  });

  it('the socket address is used without x-forwarded-for', async () => {
    const a = await signup();
    for (let i = 0; i < MAX_ATTEMPTS; i++) await t.gql(LOGIN, { username: a.input.username, password: 'wrong password' });
    const r = await t.gql(LOGIN, { username: a.input.username, password: a.input.password });
    expect(firstError(r).extensions!.code).toBe('RATE_LIMITED');
  });
});

describe('tokens', () => {
  const keysDir = () => join(stack.dir, 'keys');
  const privateKey = () => readFileSync(join(keysDir(), 'jwt-private.pem'), 'utf8');

  it('logout revokes the token; the same token is then UNAUTHENTICATED; a fresh login works', async () => {
    const a = await signup();
    const out = await t.gql(`mutation { logout }`, {}, bearer(a.jwt));
    expect(out.body).toEqual({ data: { logout: true } });
    const me = await t.gql(ME, {}, bearer(a.jwt));
    expect(firstError(me)).toMatchObject({ message: 'Token has been revoked.', extensions: { code: 'UNAUTHENTICATED' } });
    const again = await t.gql(`mutation { logout }`, {}, bearer(a.jwt));
    expect(firstError(again).extensions!.code).toBe('UNAUTHENTICATED');
    // a client holding the revoked token can still log in again
    const login = await t.gql(LOGIN, { username: a.input.username, password: a.input.password }, bearer(a.jwt));
    expect(login.body.errors).toBeUndefined();
    const me2 = await t.gql(ME, {}, bearer(login.body.data!.login.jwt));
    expect(me2.body.data!.me.id).toBe(a.user.id);
  });

  it('logout without a token → UNAUTHENTICATED', async () => {
    const r = await t.gql(`mutation { logout }`);
    expect(firstError(r).extensions!.code).toBe('UNAUTHENTICATED');
  });

  it('tampered, expired, alg-none and foreign-key tokens → UNAUTHENTICATED', async () => {
    const a = await signup();
    const [h, p, s] = a.jwt.split('.');
    const claims = JSON.parse(Buffer.from(p, 'base64url').toString());
    const tampered = `${h}.${Buffer.from(JSON.stringify({ ...claims, roles: ['OWNER', 'STUDENT'] })).toString('base64url')}.${s}`;
    const now = Math.floor(Date.now() / 1000);
    const expired = jwtLib.sign(
      { username: a.input.username, roles: ['STUDENT'], iat: now - 7200, exp: now - 3600 },
      privateKey(),
      { algorithm: 'RS256', subject: a.user.id, issuer: JWT_ISSUER, audience: JWT_AUDIENCE, jwtid: 'expired-1' },
    );
    const noneHeader = Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url');
    const algNone = `${noneHeader}.${p}.`;
    const { generateKeyPairSync } = await import('node:crypto');
    const other = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const foreign = jwtLib.sign({ username: a.input.username, roles: ['STUDENT'] }, other, {
      algorithm: 'RS256', subject: a.user.id, issuer: JWT_ISSUER, audience: JWT_AUDIENCE, jwtid: 'foreign-1', expiresIn: 60,
    });
    const cases: Array<[string, string, string]> = [
      ['tampered', tampered, 'Invalid token.'],
      ['expired', expired, 'Token has expired.'],
      ['alg none', algNone, 'Invalid token.'],
      ['foreign key', foreign, 'Invalid token.'],
      ['garbage', 'not.a.jwt', 'Invalid token.'],
    ];
    for (const [name, token, message] of cases) {
      for (const op of [ME, `mutation { logout }`]) {
        const r = await t.gql(op, {}, bearer(token));
        expect({ name, error: firstError(r) }).toMatchObject({ name, error: { message, extensions: { code: 'UNAUTHENTICATED' } } });
        expect(r.status).toBe(401);
      }
    }
    // the untouched token still works (the cases above are refused for their defect, not by accident)
    expect((await t.gql(ME, {}, bearer(a.jwt))).body.data!.me.id).toBe(a.user.id);
  });
});

describe('federation', () => {
  it('serves _service { sdl } with the User entity', async () => {
    const r = await t.gql(`{ _service { sdl } }`);
    const sdl: string = r.body.data!._service.sdl;
    expect(sdl).toMatch(/type User\s+@key\(fields: "id"\)/);
    expect(sdl).toContain('https://specs.apollo.dev/federation/v2.3');
    expect(sdl).toContain('signup(input: SignupInput!): AuthPayload!');
    expect(sdl).not.toContain('password_hash');
  });

  it('resolves 50 _entities references with exactly one database query', async () => {
    const users: Array<{ id: string; username: string }> = [];
    for (let i = 0; i < 5; i++) users.push((await signup()).user);
    const reps = Array.from({ length: 50 }, (_, i) =>
      i < 45 ? { __typename: 'User', id: users[i % 5].id } : { __typename: 'User', id: `missing-${i}` },
    );
    const before = t.service.db.stats.queries;
    const r = await t.gql(
      `query($reps: [_Any!]!) { _entities(representations: $reps) { ... on User { id username roles } } }`,
      { reps },
    );
    const after = t.service.db.stats.queries;
    expect(r.body.errors).toBeUndefined();
    const entities = r.body.data!._entities as Array<{ id: string; username: string } | null>;
    expect(entities).toHaveLength(50);
    expect(entities[7]).toMatchObject({ id: users[2].id, username: users[2].username });
    expect(entities[49]).toBeNull();
    expect(after - before).toBe(1);
  });
});

describe('health', () => {
  it('reports db and redis up', async () => {
    const h = await t.http('/health');
    expect(h).toEqual({ status: 200, body: { status: 'ok', service: 'users', db: 'up', redis: 'up' } });
  });
});
