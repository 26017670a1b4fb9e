import Database from 'better-sqlite3';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { waitFor } from '@dream/common/testing';
import { useStack, waitForPool } from '@dream/testenv';
import type { Gateway } from '../gateway/src/server';
import { signup } from '../gateway/test/client/api';
import { gqlWsClient, rawSocket, subscribe } from '../gateway/test/client/ws-clients';
import { countRows } from './db';
import { boundedLoad, failures, gqlOutcome, summary, type Outcome } from './load';
import { measured, newRow } from './report';

jest.setTimeout(180_000);

const READ = 'query Read($id: ID!) { course(id: $id) { id name owner { username } } }';
const WRITE = 'mutation Write($input: CreateCourseInput!) { createCourse(input: $input) { id name } }';

/** Discovery, Redis and the database are shared dependencies: each is taken away mid-load and brought back. */
describe('shared dependency faults under a bounded load', () => {
  const stack = useStack({ discoveryTtlSeconds: 3 });
  let gw: Gateway;
  let owner: { jwt: string; id: string };
  const ids: string[] = [];

  const read = (i: number) => gqlOutcome(gw, i, 'read', READ, { variables: { id: ids[i % ids.length] } });
  const write = (i: number, prefix: string) =>
    gqlOutcome(gw, i, 'write', WRITE, {
      token: owner.jwt,
      key: `${prefix}-${i}`,
      variables: { input: { name: `${prefix}-${i}`, info: 'x', category: prefix, price: 1 } },
    });

  beforeAll(async () => {
    await stack.addUsers();
    await stack.addCourses();
    await stack.addCourses();
    // the production default timeout: a locked database answers 503 (2 s) before the gateway gives up
    gw = await stack.gateway({ UPSTREAM_TIMEOUT_MS: '5000', BREAKER_COOLDOWN_MS: '500' });
    await gw.ready();
    await waitFor(() => gw.supergraph.subgraphs.length === 2, { what: 'both subgraphs composed' });
    await waitForPool(gw, 'courses', 2);
    owner = await signup(gw, 'OWNER');
    for (let i = 0; i < 20; i++) {
      const r = await write(i, 'seed');
      if (!r.ok) throw new Error(`seeding failed: ${r.message}`);
      ids.push(r.data!.createCourse.id);
    }
  });

  it('discovery restarted mid-load: no client-visible error, pools follow discovery again', async () => {
    let restartedAt = 0;
    const row = newRow('discovery restarted mid-load');
    const m = await measured(row, async () => {
      const outcomes = await boundedLoad({
        total: 300,
        concurrency: 4,
        gapMs: 5,
        send: (i) => (i % 5 === 4 ? write(i, 'disc') : read(i)),
        at: [
          {
            after: 60,
            run: async () => {
              await stack.discovery.stop();
              await stack.startDiscovery();
              restartedAt = Date.now();
            },
          },
        ],
      });
      const writes = outcomes.filter((o) => o.kind === 'write');
      const count = (name: string) => countRows(stack.dir, 'courses', 'select count(*) as n from courses where name = ?', name);
      const lost = writes.filter((w) => w.ok && count(w.key!) !== 1);
      const doubled = writes.filter((w) => count(w.key!) > 1);
      row.requests = outcomes.length;
      row.failed = failures(outcomes).length;
      row.lostWrites = lost.length;
      row.duplicates = doubled.length;
      // the watch resumes: a replica that registers now reaches the pool
      const c = await stack.addCourses();
      await waitFor(
        () =>
          gw.pools
            .get('courses')
            .status()
            .some((s) => s.url === c.url),
        { timeoutMs: 5000, what: 'watch to resume' },
      );
      row.recoveryMs = Date.now() - restartedAt;
      row.note = 'a replica registered after the restart is in the pool (includes its start-up)';
      return { outcomes, lost, doubled };
    });
    expect(summary(m.outcomes)).toBe('');
    expect(m.lost).toEqual([]);
    expect(m.doubled).toEqual([]);
  });

  it('Redis restarted mid-load: reads fall back to the database, the cache refills, subscribers stay connected and get later events once', async () => {
    const student = await signup(gw, 'STUDENT');
    // two graphql-ws subscribers (so "events per subscriber" means something) and one /courses WS list
    const subs = [student, await signup(gw, 'STUDENT')].map((u) =>
      subscribe<{ courseCreated: { id: string; name: string } }>(
        gqlWsClient(stack.d, gw, { jwt: u.jwt }),
        'subscription { courseCreated(category: "after-redis") { id name } }',
      ),
    );
    const list = rawSocket(stack.d, gw, '/courses', { headers: { authorization: `Bearer ${student.jwt}` } });
    await list.opened;
    await list.inbox.take(Array.isArray, 5000, 'the initial course list');
    await waitFor(() => gw.clientSurface.graphqlWs.activeSubscriptions >= 2, { what: 'the graphql-ws subscriptions to be active' });
    let closedCode: number | undefined;
    void list.closed.then((c) => (closedCode = c.code));

    const redis = new Redis(stack.redis.url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    redis.on('error', () => undefined);
    stack.d.defer(() => redis.disconnect());

    let backAt = 0;
    const row = newRow('Redis restarted mid-load (empty)');
    const m = await measured(row, async () => {
      // every request the scenario sends is kept, including the probes made while Redis is away
      const extra: Outcome[] = [];
      const outcomes = await boundedLoad({
        total: 300,
        concurrency: 4,
        gapMs: 5,
        send: read,
        at: [
          {
            after: 60,
            run: async () => {
              await stack.redis.stop();
              // a read without Redis under load, then the same port again (empty: no persistence)
              extra.push(await read(9999));
              await stack.redis.start();
              backAt = Date.now();
            },
          },
        ],
      });
      row.requests = outcomes.length + extra.length;
      row.failed = failures(outcomes).length + failures(extra).length;

      // the cache refills: a read after the restart stores the course again
      await redis.connect();
      await waitFor(
        async () => {
          extra.push(await read(0));
          return (await redis.exists(`v1:course:${ids[0]}`)) === 1;
        },
        { timeoutMs: 10000, what: 'the course cache to refill' },
      );
      // subscribers are still connected and receive an event published after Redis returned
      const w = await write(Date.now(), 'after-redis');
      extra.push(w);
      row.requests = outcomes.length + extra.length;
      row.failed = failures(outcomes).length + failures(extra).length;
      row.lostWrites = w.ok && countRows(stack.dir, 'courses', 'select count(*) as n from courses where id = ?', w.data!.createCourse.id) !== 1 ? 1 : 0;
      const created = w.ok ? (w.data!.createCourse.id as string) : undefined;
      if (created) {
        for (const s of subs) await s.inbox.take((v) => v.data?.courseCreated.id === created, 10000, 'courseCreated after the restart');
        await list.inbox.take((v) => Array.isArray(v) && v.some((c: { courseId: string }) => c.courseId === created), 10000, 'the WS list with the new course');
      }
      row.recoveryMs = Date.now() - backAt;
      // a later event (no fault) is the fence: once it is in, every copy of the first one would be too
      const fence = await write(Date.now(), 'after-redis');
      extra.push(fence);
      if (fence.ok) for (const s of subs) await s.inbox.take((v) => v.data?.courseCreated.id === fence.data!.createCourse.id, 10000, 'the fence event');
      const perSubscriber = subs.map((s) => s.inbox.values.filter((v) => v.data?.courseCreated.id === created).length);
      row.requests = outcomes.length + extra.length;
      row.failed = failures(outcomes).length + failures(extra).length;
      row.duplicates = perSubscriber.reduce((n, k) => n + Math.max(0, k - 1), 0);
      row.note = `cache refilled; 2 graphql-ws subscribers got the event ${perSubscriber.join(' and ')} time(s), the WS list showed it`;
      return { outcomes, extra, created, perSubscriber };
    });
    expect(backAt).toBeGreaterThan(0);
    expect(summary(m.outcomes)).toBe('');
    expect(summary(m.extra)).toBe('');
    expect(m.created).toBeDefined();
    expect(m.perSubscriber).toEqual([1, 1]);
    expect(row.lostWrites).toBe(0);
    expect(closedCode).toBeUndefined();
  });

  it('the database locked for a moment: writes answer a clear 503, nothing half-written, recovery without restart', async () => {
    // another connection holds the write lock (as a stuck migration or a backup would): writers wait
    // out the busy timeout (2 s) and must then answer 503, not hang, not 500
    const lock = new Database(join(stack.dir, 'courses.db'));
    stack.d.defer(() => lock.close());
    let locked = false;
    let saw503 = false;
    let unlockedAt = 0;
    const before = countRows(stack.dir, 'courses', 'select count(*) as n from courses');
    const row = newRow('courses database locked (exclusive lock)');
    const m = await measured(row, async () => {
      const outcomes = await boundedLoad({
        total: 160,
        concurrency: 4,
        gapMs: 10,
        send: async (i) => {
          const o = await (i % 2 === 1 ? write(i, 'dblock') : read(i));
          if (locked && !o.ok && o.kind === 'write') saw503 = true;
          return o;
        },
        at: [
          {
            after: 20,
            run: async () => {
              lock.exec('BEGIN EXCLUSIVE');
              locked = true;
              await waitFor(() => saw503, { timeoutMs: 20000, what: 'a locked-out write to answer' });
              lock.exec('ROLLBACK');
              locked = false;
              unlockedAt = Date.now();
            },
          },
        ],
      });
      const writes = outcomes.filter((o) => o.kind === 'write');
      const failedWrites = failures(writes);
      const count = (name: string) => countRows(stack.dir, 'courses', 'select count(*) as n from courses where name = ?', name);
      const halfWritten = failedWrites.filter((w) => count(w.key!) !== 0);
      const lost = writes.filter((w) => w.ok && count(w.key!) !== 1);
      const doubled = writes.filter((w) => count(w.key!) > 1);
      const slowestRead = Math.max(...outcomes.filter((o) => o.kind === 'read').map((o) => o.ms));
      // recovery without a restart: the next write succeeds (every attempt is kept and counted)
      const attempts: Outcome[] = [];
      await waitFor(
        async () => {
          attempts.push(await write(100_000 + attempts.length, 'dblock-after'));
          return attempts[attempts.length - 1].ok;
        },
        { timeoutMs: 10000, what: 'a write after the lock was released' },
      );
      row.recoveryMs = Date.now() - unlockedAt;
      const after = countRows(stack.dir, 'courses', 'select count(*) as n from courses');
      row.requests = outcomes.length + attempts.length;
      row.failed = failures(outcomes).length + failures(attempts).length;
      row.lostWrites = lost.length;
      row.duplicates = doubled.length;
      row.note = `${failedWrites.length} write(s) answered 503 after the busy timeout (${halfWritten.length} half-written); reads did not fail (slowest ${slowestRead} ms); ${attempts.length} attempt(s) until a write succeeded`;
      return { outcomes, writes, failedWrites, halfWritten, lost, doubled, slowestRead, attempts, added: after - before };
    });
    expect(m.failedWrites.length).toBeGreaterThan(0);
    for (const w of m.failedWrites) {
      expect({ status: w.status, code: w.code }).toEqual({ status: 503, code: 'SERVICE_UNAVAILABLE' });
      expect(w.message).toMatch(/database/i);
    }
    expect(failures(m.outcomes.filter((o) => o.kind === 'read'))).toEqual([]);
    // a write waiting for the lock must not freeze its replica (better-sqlite3 is synchronous: the wait
    // is async, see packages/common/src/sqlite-busy.ts); reads stay well under the 2 s busy timeout
    expect(m.slowestRead).toBeLessThan(2000);
    expect(m.halfWritten).toEqual([]);
    expect(m.lost).toEqual([]);
    expect(m.doubled).toEqual([]);
    // once the lock is gone the first write succeeds
    expect(m.attempts.map((a) => a.ok)).toEqual([true]);
    expect(m.added).toBe(m.writes.filter((w) => w.ok).length + 1);
  });
});
