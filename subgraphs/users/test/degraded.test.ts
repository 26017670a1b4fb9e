import { waitFor } from '@dream/common/testing';
import { useStack } from '@dream/testenv';
import { LOGIN, ME, SIGNUP, bearer, firstError, newUser, type TestUsers } from './helpers';

const stack = useStack({ discovery: false });
let t: TestUsers;

beforeAll(async () => {
  t = await stack.subgraph('users');
});

describe('with Redis down', () => {
  it('health is 200 but degraded; signup and login keep working; me and logout fail closed with 503', async () => {
    const input = newUser();
    const { jwt } = (await t.gql(SIGNUP, { input })).body.data!.signup;
    await stack.redis.stop();

    const h = await t.http('/health');
    expect(h).toEqual({ status: 200, body: { status: 'ok', service: 'users', db: 'up', redis: 'down', degraded: true } });

    const other = newUser();
    expect((await t.gql(SIGNUP, { input: other })).body.errors).toBeUndefined();
    const login = await t.gql(LOGIN, { username: input.username, password: input.password });
    expect(login.body.errors).toBeUndefined();
    const wrong = await t.gql(LOGIN, { username: input.username, password: 'wrong password' });
    expect(firstError(wrong).extensions!.code).toBe('UNAUTHENTICATED');
    // the denylist cannot be read: the token might be revoked, so it is not trusted
    const me = await t.gql(ME, {}, bearer(jwt));
    expect(firstError(me).extensions!.code).toBe('SERVICE_UNAVAILABLE');
    expect(me.body.data?.me ?? null).toBeNull();

    const logout = await t.gql(`mutation { logout }`, {}, bearer(jwt));
    expect(firstError(logout).extensions!.code).toBe('SERVICE_UNAVAILABLE');
    expect(logout.status).toBe(503);

    await stack.redis.start();
    await waitFor(async () => (await t.http('/health')).body.redis === 'up', { timeoutMs: 10000, what: 'redis back up' });
    const out = await t.gql(`mutation { logout }`, {}, bearer(jwt));
    expect(out.body).toEqual({ data: { logout: true } });
  });
});

describe('with the database gone', () => {
  it('health is 500 with a reason', async () => {
    await t.service.db.close();
    const h = await t.http('/health');
    expect(h.status).toBe(500);
    expect(h.body).toMatchObject({ status: 'down', db: 'down', reason: expect.stringMatching(/^database unreachable/) });
  });
});
