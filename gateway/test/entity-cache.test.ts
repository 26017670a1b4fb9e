import { once } from 'node:events';
import { createRedis } from '@dream/common';
import { publishEvent } from '@dream/common/events';
import { waitFor } from '@dream/common/testing';
import type { Gateway } from '../src/server';
import { signup } from './client/api';
import { getJson, gql, servedBy, useStack, waitForPool } from './helpers';

const CACHE_ENV = { ENTITY_CACHE: 'true', ENTITY_CACHE_PRIVATE: 'true', ACCESS_LOG: 'false' };
const READ = 'query Read($id: ID!) { course(id: $id) { id name owner { username } } }';
const CREATE = 'mutation Create($input: CreateCourseInput!) { createCourse(input: $input) { id } }';
const RENAME = 'mutation Rename($id: ID!, $name: String!) { updateCourse(id: $id, input: { name: $name }) { id name } }';

/** Resolves when `gw`'s cache has dropped the entries of `tag` (emitted after the local layer is cleared). */
function invalidated(gw: Gateway, tag: string): Promise<number> {
  const store = gw.entityCache!.cache.store;
  return new Promise((resolve) => {
    const onTags = (tags: string[]) => {
      if (!tags.includes(tag)) return;
      store.off('invalidated', onTags);
      resolve(Date.now());
    };
    store.on('invalidated', onTags);
  });
}

describe('entity cache (two gateways, real subgraphs and events)', () => {
  const stack = useStack();
  let a: Gateway;
  let b: Gateway;
  let owner: { jwt: string; id: string; username: string };
  let courseId: string;

  beforeAll(async () => {
    await stack.addUsers();
    await stack.addCourses();
    [a, b] = await Promise.all([stack.gateway(CACHE_ENV), stack.gateway(CACHE_ENV)]);
    for (const gw of [a, b]) {
      await gw.ready();
      await waitForPool(gw, 'courses', 1);
      await waitFor(() => gw.supergraph.subgraphs.length === 2, { what: 'both subgraphs composed' });
      await gw.entityCache!.ready();
    }
    owner = await signup(a, ['OWNER']);
    const r = await gql(a, CREATE, { token: owner.jwt, variables: { input: { name: 'cached', info: 'i', category: 'cache', price: 5 } } });
    courseId = r.body.data!.createCourse.id as string;
  });

  it('a warm course read reaches no subgraph; the second gateway fills its local layer from Redis', async () => {
    const courses = stack.courses[0];
    const users = stack.users[0];
    const first = await gql(a, READ, { variables: { id: courseId } });
    expect(first.body).toEqual({ data: { course: { id: courseId, name: 'cached', owner: { username: owner.username } } } });
    const before = [await servedBy(courses), await servedBy(users)];
    expect((await gql(a, READ, { variables: { id: courseId } })).body).toEqual(first.body);
    expect((await gql(b, READ, { variables: { id: courseId } })).body).toEqual(first.body);
    expect([await servedBy(courses), await servedBy(users)]).toEqual(before);
    expect(b.entityCache!.cache.store.localSize).toBeGreaterThan(0);
    const metrics = String((await getJson(`${a.url}/metrics`)).body);
    expect(metrics).toMatch(/gateway_entity_cache_total\{subgraph="courses",outcome="hit"\} [1-9]/);
    expect(metrics).toMatch(/gateway_entity_cache_total\{subgraph="users",outcome="hit"\} [1-9]/);
  });

  it('an anonymous mutation (a signup) does not switch the cache off for anonymous readers', async () => {
    const courses = stack.courses[0];
    await gql(a, READ, { variables: { id: courseId } }); // warm
    await signup(a, ['STUDENT']); // anonymous, from the same address as the reads below
    const before = await servedBy(courses);
    for (let i = 0; i < 3; i++) expect((await gql(a, READ, { variables: { id: courseId } })).body.data!.course.id).toBe(courseId);
    expect(await servedBy(courses)).toBe(before);
  });

  it('a course update (its real event) invalidates the course on both gateways; both then read the new name', async () => {
    await gql(b, READ, { variables: { id: courseId } }); // warm on both
    const onA = invalidated(a, `Course:${courseId}`);
    const onB = invalidated(b, `Course:${courseId}`);
    const renamed = await gql(a, RENAME, { token: owner.jwt, variables: { id: courseId, name: 'renamed' } });
    expect(renamed.body.errors).toBeUndefined();
    await Promise.all([onA, onB]);
    for (const gw of [a, b]) expect((await gql(gw, READ, { variables: { id: courseId } })).body.data!.course.name).toBe('renamed');
  });

  it('an event reaches the local layer of every gateway within 100 ms of its publication', async () => {
    const redis = createRedis(stack.redis.url);
    try {
      const onA = invalidated(a, `Course:${courseId}`);
      const onB = invalidated(b, `Course:${courseId}`);
      const publishedAt = Date.now();
      await publishEvent(redis, 'course.updated', { courseId, ownerId: owner.id, category: 'cache' });
      const [atA, atB] = await Promise.all([onA, onB]);
      expect(Math.max(atA, atB) - publishedAt).toBeLessThan(100);
    } finally {
      redis.disconnect();
    }
  });

  it('PRIVATE fields are cached per user: two users reading the same fields never get each other\'s answer', async () => {
    const [x, y] = await Promise.all([signup(a, ['STUDENT']), signup(a, ['STUDENT'])]);
    const ME = '{ me { id email } }';
    const OF = 'query Of($id: ID!) { user(id: $id) { id username email } }';
    const users = stack.users[0];
    let served = 0;
    for (let round = 0; round < 2; round++) {
      const before = await servedBy(users);
      for (const u of [x, y]) {
        const me = await gql(a, ME, { token: u.jwt });
        expect(me.body.data!.me).toEqual({ id: u.id, email: `${u.username}@example.org` });
      }
      // the same operation and variables from both users: only the user themself sees the email
      const own = await gql(a, OF, { token: x.jwt, variables: { id: x.id } });
      const other = await gql(a, OF, { token: y.jwt, variables: { id: x.id } });
      const anonymous = await gql(a, OF, { variables: { id: x.id } });
      expect(own.body.data!.user.email).toBe(`${x.username}@example.org`);
      expect(other.body.data!.user.email).toBeNull();
      expect(anonymous.body.data!.user.email).toBeNull();
      served = (await servedBy(users)) - before;
    }
    // the second round: each user's own entries answered; only the anonymous read (PRIVATE, no user) went upstream
    expect(served).toBe(1);
  });

  it('a Redis outage only turns the cache off: reads keep working from the subgraphs, and caching resumes with Redis', async () => {
    const courses = stack.courses[0];
    await gql(a, READ, { variables: { id: courseId } });
    const closed = once(a.entityCache!.cache.store, 'off');
    await stack.redis.stop();
    await closed;
    const before = await servedBy(courses);
    for (let i = 0; i < 3; i++) expect((await gql(a, READ, { variables: { id: courseId } })).body.data!.course.id).toBe(courseId);
    expect((await servedBy(courses)) - before).toBe(3); // nothing served from the local layer while events could be missed

    await stack.redis.start();
    await waitFor(() => a.entityCache!.cache.store.active, { what: 'the cache back on', timeoutMs: 15_000 });
    await gql(a, READ, { variables: { id: courseId } });
    const warm = await servedBy(courses);
    await gql(a, READ, { variables: { id: courseId } });
    expect(await servedBy(courses)).toBe(warm);
  });
});
