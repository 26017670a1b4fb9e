import { existsSync } from 'node:fs';
import { waitFor } from '@dream/common/testing';
import { Stack, breakerOf, gql, listening, servedAt, servedBy, waitForPool } from '../src';

jest.setTimeout(60000);

describe('Stack', () => {
  it('boots redis, discovery, registered replicas and a gateway on free ports, and stop() leaves nothing behind', async () => {
    const stack = new Stack({ discoveryTtlSeconds: 2 });
    let redisPort = 0;
    try {
      await stack.start();
      redisPort = Number(new URL(stack.redis.url).port);
      expect(await listening(redisPort)).toBe(true);
      expect(existsSync(stack.dir)).toBe(true);
      const users = await stack.addUsers();
      const courses = await stack.addCourses();
      const listed = await stack.client.list();
      expect(listed.services.users.map((i) => i.url)).toEqual([users.url]);
      expect(listed.services.courses.map((i) => i.url)).toEqual([courses.url]);

      const gw = await stack.gateway();
      await gw.ready();
      await waitForPool(gw, 'courses', 1);
      expect(breakerOf(gw, 'courses', courses.url)).toBe('closed');
      expect(breakerOf(gw, 'courses', 'http://127.0.0.1:1/graphql')).toBeUndefined();

      // a token signed with the stack's keys is accepted by the gateway and the subgraphs
      const token = stack.token(['OWNER'], 'stackowner');
      const before = await servedBy(courses);
      const created = await gql(gw, 'mutation { createCourse(input: { name: "n", info: "i", category: "c", price: 1 }) { name } }', {
        headers: { authorization: `Bearer ${token}` },
      });
      expect(created.body).toEqual({ data: { createCourse: { name: 'n' } } });
      // the replica's own counter saw exactly that one operation
      expect((await servedBy(courses)) - before).toBe(1);

      // a crashed replica stops answering but keeps its lease; revived on the same port it answers again
      await stack.crash(courses);
      expect(await listening(courses.port)).toBe(false);
      await stack.revive(courses);
      expect(await servedAt(courses.url.replace('/graphql', ''))).toBe(0);
    } finally {
      await stack.stop();
    }
    expect(await listening(redisPort)).toBe(false);
    expect(await listening(stack.discoveryPort)).toBe(false);
    expect(existsSync(stack.dir)).toBe(false);
  });

  it('spawn: a service in its own process, healthy before it resolves; kill() is a real SIGKILL', async () => {
    const stack = new Stack();
    try {
      await stack.start();
      const child = await stack.spawnSubgraph('courses');
      expect(child.exited).toBe(false);
      expect(await listening(child.port)).toBe(true);
      // it announces itself to discovery like `npm start` does (registration may follow /health)
      await waitFor(async () => (await stack.client.list()).services.courses?.some((i) => i.url === `${child.base}/graphql`), {
        what: 'the spawned replica registered',
        timeoutMs: 10000,
      });
      const exit = new Promise<NodeJS.Signals | null>((r) => child.proc.once('exit', (_code, signal) => r(signal)));
      await child.kill();
      expect(await exit).toBe('SIGKILL');
      expect(child.exited).toBe(true);
      expect(await listening(child.port)).toBe(false);
    } finally {
      await stack.stop();
    }
  });

  it('spawn fails with the log file named when the process dies before it is healthy', async () => {
    const stack = new Stack();
    try {
      await stack.start();
      await expect(stack.spawnSubgraph('courses', { DATABASE_URL: 'nonsense://x' }, { timeoutMs: 20000 })).rejects.toThrow(/exited before it was healthy \(see .*courses-1\.log\)/);
    } finally {
      await stack.stop();
    }
  });
});
