import { existsSync } from 'node:fs';
import { KNOWN_SUBGRAPHS, listening, useStack, type Replica } from '../src';

jest.setTimeout(60000);

const CREATE = 'mutation($i: CreateCourseInput!) { createCourse(input: $i) { id } }';
const COURSE = 'query($id: ID!) { course(id: $id) { id name } }';

/** What the block below started, checked after its afterAll ran. */
const started = { ports: [] as number[], dir: '' };

describe('useStack: one registration starts and stops everything the suite starts through it', () => {
  const stack = useStack();

  it('replicas share one database; a subgraph added with service(name, start) registers under its name', async () => {
    const [a, b] = (await stack.replicas('courses', 2)) as Replica[];
    const owner = stack.user(['OWNER']);
    const created = await a.gql(CREATE, { i: { name: 'shared', info: '', category: 'c', price: 1 } }, owner.token);
    const id = created.body.data!.createCourse.id as string;
    expect((await b.gql(COURSE, { id })).body.data!.course).toEqual({ id, name: 'shared' });

    const extra = await stack.service('accounts', KNOWN_SUBGRAPHS.users).subgraph('accounts', { grpc: true });
    const listed = await stack.client.list();
    expect(listed.services.courses.map((i) => i.url).sort()).toEqual([a.url, b.url].sort());
    expect(listed.services.accounts.map((i) => [i.url, i.grpcUrl])).toEqual([[extra.url, `127.0.0.1:${extra.service.grpcPort}`]]);
    await expect(stack.subgraph('unknown')).rejects.toThrow(/does not know how to start "unknown"/);

    const gw = await stack.gateway();
    started.ports.push(Number(new URL(stack.redis.url).port), stack.discoveryPort, a.port, b.port, extra.port, Number(new URL(gw.url).port));
    started.dir = stack.dir;
    for (const port of started.ports) expect(await listening(port)).toBe(true);
  });
});

describe('after the block that used the stack', () => {
  it('nothing it started is listening and its temp dir is gone', async () => {
    expect(started.ports).toHaveLength(6);
    for (const port of started.ports) expect(await listening(port)).toBe(false);
    expect(existsSync(started.dir)).toBe(false);
  });
});
