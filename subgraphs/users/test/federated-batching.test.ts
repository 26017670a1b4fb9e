import type { Gateway } from '../../../gateway/src/server';
import type { CoursesSubgraph } from '../../courses/src/service';
import type { UsersSubgraph } from '../src/service';
import { gql, useStack } from '@dream/testenv';
import { auth, signup } from './purchase-ops';

jest.setTimeout(60000);

/**
 * A federated query for 100 courses with their owners, through a real gateway: on a cold cache at most
 * one users-database and one courses-database query; on a warm cache none at all.
 */
describe('100 courses with owners through the gateway', () => {
  const stack = useStack();
  let gw: Gateway;
  let users: UsersSubgraph;
  let courses: CoursesSubgraph;
  const QUERY = `{ courses(category: "Batched", first: 100) { id name price owner { id username roles } } }`;

  beforeAll(async () => {
    courses = (await stack.subgraph('courses', { grpc: true })).service;
    users = (await stack.subgraph('users', { grpc: true, discover: true })).service;
    gw = await stack.gateway();
    await gw.ready();
    // 20 owners with 5 courses each.
    for (let o = 0; o < 20; o++) {
      const owner = await signup(gw, ['OWNER']);
      for (let c = 0; c < 5; c++) {
        const r = await gql(gw, 'mutation($i: CreateCourseInput!) { createCourse(input: $i) { id } }', {
          variables: { i: { name: `B${o}-${c}`, info: '', category: 'Batched', price: 1 } },
          headers: auth(owner.token),
        });
        expect(r.body.errors).toBeUndefined();
      }
    }
  });

  async function run() {
    const u0 = users.db.stats.queries;
    const c0 = courses.db.stats.queries;
    const r = await gql(gw, QUERY);
    expect(r.body.errors).toBeUndefined();
    expect(r.body.data!.courses).toHaveLength(100);
    expect(r.body.data!.courses.every((c: { owner: { username: string } }) => !!c.owner.username)).toBe(true);
    return { users: users.db.stats.queries - u0, courses: courses.db.stats.queries - c0 };
  }

  it('cold: at most one query per database; warm: none', async () => {
    // Cold cache: drop only the cache keys (discovery's state lives in the same Redis).
    const keys = await courses.redis.keys('v1:*');
    if (keys.length) await courses.redis.del(...keys);
    const cold = await run();
    expect(cold.users).toBeLessThanOrEqual(1);
    expect(cold.courses).toBeLessThanOrEqual(1);
    expect(cold).toEqual({ users: 1, courses: 1 });
    expect(await run()).toEqual({ users: 0, courses: 0 });
  });
});
