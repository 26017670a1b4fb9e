import * as grpc from '@grpc/grpc-js';
import { callMetadata, getProtos, type GetUsersResponse } from '@dream/common/grpc';
import { waitFor } from '@dream/common/testing';
import { rawUnary } from '../../../packages/common/test/grpc-helpers';
import { useStack } from '@dream/testenv';
import { ME, SIGNUP, bearer, newUser, type TestUsers } from './helpers';

/** users.v1.UserService/GetUsers over a real gRPC server, and the user profile cache. */
const stack = useStack({ discovery: false });
let t: TestUsers;
const ids: string[] = [];
let token = '';
const def = getProtos().userService.GetUsers;
const address = () => `127.0.0.1:${t.service.grpcPort}`;

beforeAll(async () => {
  t = await stack.subgraph('users');
  for (let i = 0; i < 30; i++) {
    const r = await t.gql(SIGNUP, { input: newUser() });
    ids.push(r.body.data!.signup.user.id);
    token = r.body.data!.signup.jwt;
  }
});

test('a batch of ids costs one database query cold and none warm; unknown ids are left out', async () => {
  await t.service.redis.flushall();
  const before = t.service.db.stats.queries;
  const cold = await rawUnary<{ ids: string[] }, GetUsersResponse>(address(), def, { ids: [...ids, 'nobody'] }, callMetadata({ token }));
  expect(cold.err).toBeUndefined();
  expect(t.service.db.stats.queries - before).toBe(1);
  expect(cold.res!.users.map((u) => u.id)).toEqual(ids);
  expect(cold.res!.users[0]).toEqual({ id: ids[0], username: expect.any(String), roles: ['STUDENT'], createdAt: expect.any(String) });

  const mid = t.service.db.stats.queries;
  const warm = await rawUnary<{ ids: string[] }, GetUsersResponse>(address(), def, { ids }, callMetadata({ token }));
  expect(warm.res!.users).toEqual(cold.res!.users);
  expect(t.service.db.stats.queries - mid).toBe(0);
});

test('profiles are cached without the password hash', async () => {
  const raw = await t.service.redis.get(`v1:user:${ids[0]}`);
  expect(raw).toBeTruthy();
  expect(raw).not.toMatch(/argon2|passwordHash/);
  expect(JSON.parse(raw!)).toMatchObject({ id: ids[0], roles: ['STUDENT'] });
});

test('me and user(id) use the cache too (email still only for its owner)', async () => {
  const before = t.service.db.stats.queries;
  const me = await t.gql(ME, undefined, bearer(token));
  expect(me.body.data!.me.email).toMatch(/@example.org$/);
  const other = await t.gql(`query($id: ID!) { user(id: $id) { id email } }`, { id: ids[0] }, bearer(token));
  expect(other.body.data!.user).toEqual({ id: ids[0], email: null });
  expect(t.service.db.stats.queries - before).toBe(0);
});

test('refused without a valid token; too many ids is INVALID_ARGUMENT', async () => {
  const none = await rawUnary(address(), def, { ids });
  expect(none.err?.code).toBe(grpc.status.UNAUTHENTICATED);
  const bad = await rawUnary(address(), def, { ids }, callMetadata({ token: 'x.y.z' }));
  expect(bad.err?.code).toBe(grpc.status.UNAUTHENTICATED);
  const many = await rawUnary(address(), def, { ids: Array.from({ length: 1001 }, (_, i) => `id${i}`) }, callMetadata({ token }));
  expect(many.err?.code).toBe(grpc.status.INVALID_ARGUMENT);
});

test('Redis stopped: profiles come from the database, signup still works, tokens are refused; the cache refills afterwards', async () => {
  await stack.redis.stop();
  await waitFor(() => t.service.redis.status !== 'ready', { what: 'client to notice Redis is down' });
  // a user token cannot be checked against the denylist: refused (fail closed), not trusted
  const r = await rawUnary<{ ids: string[] }, GetUsersResponse>(address(), def, { ids: ids.slice(0, 5) }, callMetadata({ token }));
  expect(r.err?.code).toBe(grpc.status.UNAVAILABLE);
  const other = await t.gql(`query($id: ID!) { user(id: $id) { id username } }`, { id: ids[1] });
  expect(other.body.data!.user.id).toBe(ids[1]);
  const s = await t.gql(SIGNUP, { input: newUser() });
  expect(s.body.errors).toBeUndefined();
  await stack.redis.start();
  await waitFor(() => t.service.redis.status === 'ready', { timeoutMs: 10000, what: 'Redis client reconnected' });
  await t.gql(`query($id: ID!) { user(id: $id) { id } }`, { id: ids[1] });
  const before = t.service.db.stats.queries;
  await t.gql(`query($id: ID!) { user(id: $id) { id } }`, { id: ids[1] });
  expect(t.service.db.stats.queries - before).toBe(0);
});

test('buyCourse without any courses address answers SERVICE_UNAVAILABLE', async () => {
  const r = await t.gql(`mutation { buyCourse(courseId: "c1") { message } }`, undefined, bearer(token));
  expect(r.body.errors?.[0].extensions?.code).toBe('SERVICE_UNAVAILABLE');
});
