import { useStack, gql, servedBy, waitForPool } from './helpers';

// The data source's merging at unit level (one upstream that holds requests) is in dedupe.test.ts; two
// users kept apart through the whole gateway in isolation.test.ts.
describe('in-flight merging through the gateway (real subgraphs)', () => {
  const stack = useStack();
  beforeAll(async () => {
    await stack.addUsers();
    await stack.addCourses();
  });

  it('identical concurrent client queries reach the subgraphs fewer times; per-user queries stay separate', async () => {
    const gw = await stack.gateway({ ACCESS_LOG: 'false' });
    await gw.ready();
    await waitForPool(gw, 'courses', 1);
    const courses = stack.courses[0];
    const q = '{ courses(first: 5) { id name } }';
    const before = await servedBy(courses);
    const results = await Promise.all(Array.from({ length: 30 }, () => gql(gw, q)));
    expect(results.every((r) => r.status === 200 && Array.isArray(r.body.data?.courses))).toBe(true);
    const merged = (await servedBy(courses)) - before;
    expect(merged).toBeLessThan(30);

    // the same query from 5 different users (tokens): never merged across users
    const tokens = Array.from({ length: 5 }, () => stack.token());
    const before2 = await servedBy(courses);
    await Promise.all(tokens.map((t) => gql(gw, q, { headers: { authorization: `Bearer ${t}` } })));
    expect((await servedBy(courses)) - before2).toBe(5);
  });
});
