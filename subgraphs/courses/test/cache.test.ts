import { metricValue, postGraphql, waitFor, type GqlResult } from '@dream/common/testing';
import { useStack, type TestUser } from '@dream/testenv';
import type { CoursesSubgraph } from '../src/service';
import { CREATE, DELETE, LIST, UPDATE, courseInput, type TestCourses } from './helpers';

/** Redis cache-aside for courses and course lists: batching, coherence across replicas, outages, metrics. */
const stack = useStack({ discovery: false });
let t: TestCourses;
let replicaB: CoursesSubgraph;
const ids: string[] = [];
let owner: TestUser;

const ENTITIES = `query($reps: [_Any!]!) { _entities(representations: $reps) { ... on Course { id name price } } }`;
const COURSE = `query($id: ID!) { course(id: $id) { id name price } }`;

const gqlAt = (url: string, query: string, variables?: Record<string, unknown>, token?: string): Promise<GqlResult> =>
  postGraphql(url, query, { variables, token });

/** Database statements both replicas ran while `fn` ran. */
async function queriesDuring(fn: () => Promise<unknown>): Promise<number> {
  const before = t.service.db.stats.queries + replicaB.db.stats.queries;
  await fn();
  return t.service.db.stats.queries + replicaB.db.stats.queries - before;
}

const metric = (text: string, name: string, entity: string): number => metricValue(text, name, { entity });

beforeAll(async () => {
  t = await stack.subgraph('courses');
  // A second replica on the same database file and Redis, as two containers behind the gateway.
  replicaB = (await stack.subgraph('courses')).service;
  owner = stack.user(['OWNER']);
  for (let i = 0; i < 100; i++) {
    const r = await t.gql(CREATE, { input: courseInput({ name: `K${i}`, category: 'Cache' }) }, owner.token);
    ids.push(r.body.data!.createCourse.id);
  }
});


test('100 course entities: one database query cold, none warm (one MGET), and the counters show it', async () => {
  const reps = ids.map((id) => ({ __typename: 'Course', id }));
  await t.service.redis.flushall();
  const metricsBefore = (await t.http('/metrics')).body as string;
  let cold: GqlResult | undefined;
  expect(await queriesDuring(async () => (cold = await t.gql(ENTITIES, { reps })))).toBe(1);
  expect(cold!.body.data!._entities).toHaveLength(100);
  let warm: GqlResult | undefined;
  expect(await queriesDuring(async () => (warm = await t.gql(ENTITIES, { reps })))).toBe(0);
  expect(warm!.body).toEqual(cold!.body);
  // the other replica shares the cache
  expect(await queriesDuring(() => gqlAt(replicaB.url, ENTITIES, { reps }))).toBe(0);

  const metrics = (await t.http('/metrics')).body as string;
  expect(metric(metrics, 'cache_hits_total', 'course') - metric(metricsBefore, 'cache_hits_total', 'course')).toBe(100);
  expect(metric(metrics, 'cache_misses_total', 'course') - metric(metricsBefore, 'cache_misses_total', 'course')).toBe(100);
  expect(metrics).toMatch(/^# TYPE cache_errors_total counter/m);
});

test('a page of 100 courses: one query cold, none warm', async () => {
  await t.service.redis.flushall();
  expect(await queriesDuring(() => t.gql(LIST, { category: 'Cache', first: 100 }))).toBe(1);
  let warm: GqlResult | undefined;
  expect(await queriesDuring(async () => (warm = await t.gql(LIST, { category: 'Cache', first: 100 })))).toBe(0);
  expect(warm!.body.data!.courses).toHaveLength(100);
  expect(warm!.body.data!.courses[0].name).toBe('K99');
});

test('an update or delete is visible through every replica as soon as the write returns', async () => {
  const id = ids[5];
  // Warm both replicas' view (entity and list) first.
  for (const url of [t.service.url, replicaB.url]) {
    await gqlAt(url, COURSE, { id });
    await gqlAt(url, LIST, { category: 'Cache', first: 100 });
  }
  for (let round = 0; round < 5; round++) {
    const name = `Renamed ${round}`;
    const writer = round % 2 ? replicaB.url : t.service.url;
    const reader = round % 2 ? t.service.url : replicaB.url;
    const u = await gqlAt(writer, UPDATE, { id, input: { name, price: round } }, owner.token);
    expect(u.body.errors).toBeUndefined();
    const read = await gqlAt(reader, COURSE, { id });
    expect(read.body.data!.course).toEqual({ id, name, price: round });
    const list = await gqlAt(reader, LIST, { category: 'Cache', first: 100 });
    expect(list.body.data!.courses.find((c: { id: string }) => c.id === id).name).toBe(name);
  }
  const del = await gqlAt(replicaB.url, DELETE, { id }, owner.token);
  expect(del.body.errors).toBeUndefined();
  for (const url of [t.service.url, replicaB.url]) {
    expect((await gqlAt(url, COURSE, { id })).body.data!.course).toBeNull();
    const list = await gqlAt(url, LIST, { category: 'Cache', first: 100 });
    expect(list.body.data!.courses.map((c: { id: string }) => c.id)).not.toContain(id);
  }
  // A new course appears in cached lists at once too.
  const created = await gqlAt(t.service.url, CREATE, { input: courseInput({ name: 'Fresh', category: 'Cache' }) }, owner.token);
  const list = await gqlAt(replicaB.url, LIST, { category: 'Cache', first: 1 });
  expect(list.body.data!.courses[0].id).toBe(created.body.data!.createCourse.id);
});

test('Redis stopped: reads come from the database, writes succeed; the cache refills when Redis is back', async () => {
  const id = ids[10];
  await t.gql(COURSE, { id }); // cached
  await stack.redis.stop();
  await waitFor(() => t.service.redis.status !== 'ready' && replicaB.redis.status !== 'ready', { what: 'clients to notice Redis is down' });

  const read = await t.gql(COURSE, { id });
  expect(read.body.data!.course.name).toBe('K10');
  expect((await gqlAt(replicaB.url, LIST, { category: 'Cache', first: 10 })).body.data!.courses).toHaveLength(10);
  // Through the API an authenticated write now fails closed (the denylist cannot be read)...
  const u = await t.gql(UPDATE, { id, input: { name: 'Written while Redis was down' } }, owner.token);
  expect(u.body.errors?.[0]?.extensions?.code).toBe('SERVICE_UNAVAILABLE');
  // ...but a write whose token was checked just before Redis went down still commits: the same two
  // steps updateCourse runs after its checks, so its invalidation is the one made while Redis is down.
  await t.service.courses.update(id, { name: 'Written while Redis was down' });
  await t.service.cache.changed(id);
  expect((await gqlAt(replicaB.url, COURSE, { id })).body.data!.course.name).toBe('Written while Redis was down');
  const metrics = (await t.http('/metrics')).body as string;
  expect(metric(metrics, 'cache_errors_total', 'course')).toBeGreaterThan(0);

  await stack.redis.start();
  await waitFor(() => t.service.redis.status === 'ready' && replicaB.redis.status === 'ready', { timeoutMs: 10000, what: 'Redis clients reconnected' });
  // The write made while Redis was down is replayed as an invalidation (with its fence, a few seconds
  // without fills for that key) before replica A uses the cache again; then reads refill it.
  expect(await queriesDuring(() => t.gql(COURSE, { id }))).toBe(1);
  await waitFor(async () => (await queriesDuring(() => t.gql(COURSE, { id }))) === 0 && (await queriesDuring(() => gqlAt(replicaB.url, COURSE, { id }))) === 0, {
    timeoutMs: 15000,
    intervalMs: 250,
    what: 'reads served from the refilled cache',
  });
  expect((await gqlAt(replicaB.url, COURSE, { id })).body.data!.course.name).toBe('Written while Redis was down');
});

describe('CACHE_ENABLED=false', () => {
  const stack2 = useStack({ discovery: false });
  let plain: TestCourses;
  beforeAll(async () => {
    plain = await stack2.subgraph('courses', { env: { CACHE_ENABLED: 'false' } });
  });

  it('reads every time from the database and writes nothing to Redis', async () => {
    const o = stack2.user(['OWNER']);
    const c = await plain.gql(CREATE, { input: courseInput() }, o.token);
    const id = c.body.data!.createCourse.id;
    const before = plain.service.db.stats.queries;
    await plain.gql(COURSE, { id });
    await plain.gql(COURSE, { id });
    expect(plain.service.db.stats.queries - before).toBe(2);
    expect(await plain.service.redis.keys('v1:*')).toEqual([]);
  });
});
