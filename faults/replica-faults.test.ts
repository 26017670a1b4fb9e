import { sdlHash } from '@dream/common';
import { freePort, waitFor } from '@dream/common/testing';
import { useStack, breakerOf, servedAt, startHangingServer, waitForPool, type ChildService } from '@dream/testenv';
import { typeDefs as coursesSdl } from '../subgraphs/courses/src/service';
import type { Gateway } from '../gateway/src/server';
import { signup } from '../gateway/test/client/api';
import { gqlWsClient, subscribe } from '../gateway/test/client/ws-clients';
import { countRows, holdWriteLock } from './db';
import { boundedLoad, failures, gqlOutcome, summary, type Outcome } from './load';
import { measured, newRow } from './report';

jest.setTimeout(180_000);

const READ = 'query Read($id: ID!) { course(id: $id) { id name owner { username } } }';
const WRITE = 'mutation Write($input: CreateCourseInput!) { createCourse(input: $input) { id name } }';
const BUY = 'mutation Buy($courseId: ID!, $key: String) { buyCourse(courseId: $courseId, idempotencyKey: $key) { enrollmentId alreadyOwned } }';

/** GraphQL requests a spawned replica has served, from its own /metrics (throws when the metric is missing). */
const served = (c: ChildService): Promise<number> => servedAt(c.base);

const urlOf = (c: ChildService) => `${c.base}/graphql`;

/**
 * Courses replicas as real processes (SIGKILL is a real crash: no deregistration, sockets reset),
 * users as a process too (it reaches courses over gRPC through discovery), the gateway in-process so
 * the test can read its pools and breakers.
 */
describe('courses replica faults under a bounded load', () => {
  const stack = useStack({ discoveryTtlSeconds: 2 });
  let gw: Gateway;
  const courses: ChildService[] = [];
  const users: ChildService[] = [];
  const ports: number[] = [];
  let owner: { jwt: string; id: string };
  const ids: string[] = [];

  const spawnCourses = (port: number) => stack.spawnSubgraph('courses', { PORT: String(port) });

  beforeAll(async () => {
    ports.push(await freePort(), await freePort());
    const [u1, u2, a, b] = await Promise.all([stack.spawnSubgraph('users'), stack.spawnSubgraph('users'), spawnCourses(ports[0]), spawnCourses(ports[1])]);
    users.push(u1, u2);
    courses.push(a, b);
    gw = await stack.gateway({
      BREAKER_COOLDOWN_MS: '500',
      UPSTREAM_TIMEOUT_MS: '2000',
    });
    await gw.ready();
    await waitFor(() => gw.supergraph.subgraphs.length === 2, {
      what: 'both subgraphs composed',
    });
    await waitForPool(gw, 'courses', 2);
    await waitForPool(gw, 'users', 2);
    owner = await signup(gw, 'OWNER');
    for (let i = 0; i < 40; i++) {
      const r = await gqlOutcome(gw, i, 'seed', WRITE, {
        token: owner.jwt,
        variables: {
          input: {
            name: `seed-${i}`,
            info: 'seed',
            category: 'faults',
            price: 10,
          },
        },
      });
      if (!r.ok) throw new Error(`seeding failed: ${r.message}`);
      ids.push(r.data!.createCourse.id);
    }
  });

  /** Kills replica `k` with SIGKILL and restarts it on the same port; returns the restarted process. */
  async function restart(k: number): Promise<{ child: ChildService; healthyAt: number }> {
    const child = await spawnCourses(ports[k]);
    courses[k] = child;
    return { child, healthyAt: Date.now() };
  }

  it('SIGKILL of a replica mid-load: no failed read, no lost or doubled write, breaker opens, the instance leaves the pool; restarted it rejoins and serves', async () => {
    const victim = courses[1];
    const victimUrl = urlOf(victim);
    let killedAt = 0;
    // the breaker is sampled after every answer, so "it opened" is seen even if the lease expires right after
    let openSeenAt = 0;
    const sampleBreaker = () => {
      if (!openSeenAt && killedAt && breakerOf(gw, 'courses', victimUrl) === 'open') openSeenAt = Date.now();
    };
    const row = newRow('courses replica SIGKILLed mid-load');
    const m = await measured(row, async () => {
      const outcomes = await boundedLoad({
        total: 400,
        concurrency: 4,
        gapMs: 5,
        send: async (i) => {
          const o =
            i % 4 === 3
              ? await gqlOutcome(gw, i, 'write', WRITE, {
                  token: owner.jwt,
                  key: `kill-w-${i}`,
                  variables: {
                    input: {
                      name: `kill-w-${i}`,
                      info: 'x',
                      category: 'faults-kill',
                      price: 1,
                    },
                  },
                })
              : await gqlOutcome(gw, i, 'read', READ, {
                  variables: { id: ids[i % ids.length] },
                });
          sampleBreaker();
          return o;
        },
        at: [
          {
            after: 100,
            run: async () => {
              killedAt = Date.now();
              await victim.kill();
            },
          },
        ],
      });
      const writes = outcomes.filter((o) => o.kind === 'write');
      const count = (name: string) => countRows(stack.dir, 'courses', 'select count(*) as n from courses where name = ?', name);
      const lost = writes.filter((w) => w.ok && count(w.key!) !== 1);
      const doubled = writes.filter((w) => count(w.key!) > 1);
      // a createCourse that failed in flight carries no idempotency key: the client cannot retry it safely
      const failedWrites = failures(writes);
      const failedButRecorded = failedWrites.filter((w) => count(w.key!) === 1);
      row.requests = outcomes.length;
      row.failed = failures(outcomes).length;
      row.lostWrites = lost.length;
      row.duplicates = doubled.length;
      row.note = `${failedWrites.length} write(s) failed in flight (${failedButRecorded.length} recorded anyway), not replayed`;

      // until the lease expires the instance is still listed: the breaker must open before that
      await waitFor(
        () => {
          sampleBreaker();
          return (
            openSeenAt > 0 ||
            !gw.pools
              .get('courses')
              .status()
              .some((s) => s.url === victimUrl)
          );
        },
        { timeoutMs: 5000, what: 'the killed replica to be cut off' },
      );
      await waitFor(
        () =>
          !gw.pools
            .get('courses')
            .status()
            .some((s) => s.url === victimUrl),
        {
          timeoutMs: 8000,
          what: 'the killed replica to leave the pool (lease expiry)',
        },
      );
      const leftAfter = Date.now() - killedAt;
      row.note += `; breaker ${openSeenAt ? `open ${openSeenAt - killedAt} ms` : 'NOT seen open'} and out of the pool ${(leftAfter / 1000).toFixed(1)} s after the kill`;

      const { child, healthyAt } = await restart(1);
      await waitFor(
        () =>
          gw.pools
            .get('courses')
            .status()
            .some((s) => s.url === urlOf(child) && s.state === 'closed'),
        {
          timeoutMs: 5000,
          what: 'the restarted replica to rejoin through discovery',
        },
      );
      // every probe read is a client request: each one is kept and asserted, none is retried away
      const probes: Outcome[] = [];
      await waitFor(
        async () => {
          probes.push(
            await gqlOutcome(gw, probes.length, 'read', READ, {
              variables: { id: ids[probes.length % ids.length] },
            }),
          );
          return (await served(child)) > 0;
        },
        {
          timeoutMs: 5000,
          intervalMs: 10,
          what: 'the restarted replica to serve traffic',
        },
      );
      row.recoveryMs = Date.now() - healthyAt;
      row.requests += probes.length;
      row.failed += failures(probes).length;
      return {
        outcomes,
        writes,
        reads: outcomes.filter((o) => o.kind === 'read'),
        lost,
        doubled,
        failedWrites,
        probes,
        rejoined: await served(child),
      };
    });
    expect(killedAt).toBeGreaterThan(0);
    expect(failures(m.reads)).toEqual([]);
    // a mutation in flight on the killed replica may fail (it is never replayed: it may have run), but
    // every write that answered success is recorded exactly once and no write is recorded twice
    expect(m.lost).toEqual([]);
    expect(m.doubled).toEqual([]);
    expect(m.failedWrites.length).toBeLessThanOrEqual(4); // at most the writes in flight at the kill
    expect(openSeenAt).toBeGreaterThan(0); // the breaker opened, not merely "the instance is gone"
    expect(failures(m.probes)).toEqual([]);
    expect(m.rejoined).toBeGreaterThan(0);
  });

  it('purchases while a users and a courses replica are SIGKILLed: the kill hits purchases in flight; every success recorded once, failures retried with the same key complete once, one notification per purchase', async () => {
    const students = await Promise.all(Array.from({ length: 10 }, () => signup(gw, 'STUDENT')));
    // the owner of every seed course listens to its notifications: one per purchase, never two
    const notes = subscribe<{
      myNotifications: { kind: string; courseId: string; text: string };
    }>(gqlWsClient(stack.d, gw, { jwt: owner.jwt }), 'subscription { myNotifications { kind courseId text } }');
    await waitFor(() => gw.clientSurface.graphqlWs.activeSubscriptions >= 1, {
      what: 'the notification subscription to be active',
    });
    const victimCourses = courses[0];
    const victimUsers = users[0];
    let killedAt = 0;
    let inFlightAtKill = 0;
    // each (student, course) pair bought once with its own idempotency key
    const pairs = students.flatMap((s, si) => ids.slice(0, 20).map((c, ci) => ({ s, c, key: `p-${si}-${ci}` })));
    const answers = new Map<number, Outcome[]>();
    const send = async (i: number): Promise<Outcome> => {
      const p = pairs[i];
      const o = await gqlOutcome(gw, i, 'purchase', BUY, {
        token: p.s.jwt,
        key: p.key,
        variables: { courseId: p.c, key: p.key },
      });
      answers.set(i, [...(answers.get(i) ?? []), o]);
      return o;
    };
    let started = 0;
    let answered = 0;
    const row = newRow('purchases while a users and a courses replica are SIGKILLed');
    const m = await measured(row, async () => {
      const outcomes = await boundedLoad({
        total: pairs.length,
        concurrency: 8,
        send: async (i) => {
          started++;
          const o = await send(i);
          answered++;
          return o;
        },
        at: [
          {
            after: 60,
            run: async () => {
              // Hold the courses database's write lock so purchases pile up in flight (users waits on
              // BuyCourse), then SIGKILL the users replica while the gateway has them out: a mutation that
              // reached it is never replayed by the gateway, so its client sees a failure and cannot know
              // whether it was recorded. Without the hold, whether any purchase is out at the kill is luck.
              const lock = holdWriteLock(stack.dir, 'courses');
              try {
                // purchases the victim received after the lock was taken cannot finish: they are inside it
                const before = await served(victimUsers);
                await waitFor(async () => started - answered >= 6 && (await served(victimUsers)) - before >= 2, {
                  timeoutMs: 5000,
                  what: 'purchases to pile up inside the users replica behind the lock',
                });
                inFlightAtKill = started - answered;
                killedAt = Date.now();
                await Promise.all([victimUsers.kill(), victimCourses.kill()]);
              } finally {
                lock.release();
              }
            },
          },
        ],
      });
      const recorded = (i: number) =>
        countRows(stack.dir, 'courses', 'select count(*) as n from enrollments where user_id = ? and course_id = ?', pairs[i].s.id, pairs[i].c);
      const succeeded = outcomes.filter((o) => o.ok);
      const failed = failures(outcomes);
      const lost = succeeded.filter((o) => recorded(o.i) !== 1);
      const failedButRecorded = failed.filter((o) => recorded(o.i) !== 0);
      // clients retry what failed with the same key: each must complete exactly once
      const retried = await Promise.all(failed.map((o) => send(o.i)));
      // a repeat of a success buys nothing twice
      const again = await send(succeeded[0].i);
      const doubledRows = pairs.map((_, i) => i).filter((i) => recorded(i) > 1);
      // answers that said "new" (alreadyOwned false) more than once for one pair: a double charge as the client sees it
      const newTwice = [...answers.entries()].filter(([, os]) => os.filter((o) => o.ok && o.data?.buyCourse?.alreadyOwned === false).length > 1);
      const notRecordedAfterRetry = failed.filter((o) => recorded(o.i) !== 1);

      // a purchase made now is published after every earlier one: once its notification arrives, all earlier ones have
      const late = await signup(gw, 'STUDENT');
      const marker = await gqlOutcome(gw, -1, 'purchase', BUY, {
        token: late.jwt,
        variables: { courseId: ids[0], key: `late-${late.id}` },
      });
      const enrollments = countRows(
        stack.dir,
        'courses',
        `select count(*) as n from enrollments where course_id in (${ids
          .slice(0, 20)
          .map(() => '?')
          .join(',')})`,
        ...ids.slice(0, 20),
      );
      if (marker.ok) {
        await notes.inbox.take(
          (v) => v.data?.myNotifications.text.startsWith(`${late.username} `) === true,
          10000,
          'the notification of a purchase made after the others',
        );
      }
      const perPurchase = new Map<string, number>();
      for (const v of notes.inbox.values) {
        const n = v.data?.myNotifications;
        if (n?.kind === 'course.bought') perPurchase.set(`${n.courseId} ${n.text}`, (perPurchase.get(`${n.courseId} ${n.text}`) ?? 0) + 1);
      }
      const notificationsTwice = [...perPurchase.values()].filter((n) => n > 1).length;

      const { child, healthyAt } = await restart(0);
      await waitFor(
        () =>
          gw.pools
            .get('courses')
            .status()
            .some((s) => s.url === urlOf(child) && s.state === 'closed'),
        {
          timeoutMs: 8000,
          what: 'the restarted replica to rejoin',
        },
      );
      row.recoveryMs = Date.now() - healthyAt;
      row.requests = outcomes.length + retried.length + 2;
      row.failed = failed.length + failures(retried).length + failures([again, marker]).length;
      row.lostWrites = lost.length;
      row.duplicates = doubledRows.length + newTwice.length + notificationsTwice;
      row.retried = retried.length;
      row.note =
        `${inFlightAtKill} purchase(s) in flight at the kill; ${failed.length} failed (${failedButRecorded.length} of them recorded anyway), ` +
        `retried with their key: ${retried.length - failures(retried).length} ok; ${perPurchase.size} notification(s) for ${enrollments} enrollment(s)`;
      if (failed.length) console.log(`purchase failures during the kill: ${summary(outcomes)}`);
      return {
        outcomes,
        failed,
        lost,
        retried,
        again,
        marker,
        doubledRows,
        newTwice,
        notRecordedAfterRetry,
        notificationsTwice,
        perPurchase,
        enrollments,
      };
    });
    expect(killedAt).toBeGreaterThan(0);
    expect(inFlightAtKill).toBeGreaterThan(0);
    expect(m.lost).toEqual([]);
    // the kill hit purchases in flight: some clients saw a failure and had to retry
    expect(m.retried.length).toBeGreaterThan(0);
    for (const f of m.failed) expect(f.code).toBe('SERVICE_UNAVAILABLE');
    expect(m.marker.ok).toBe(true);
    expect(failures(m.retried)).toEqual([]);
    expect(m.notRecordedAfterRetry).toEqual([]);
    expect(m.again.ok).toBe(true);
    expect(m.again.data!.buyCourse.alreadyOwned).toBe(true);
    expect(m.doubledRows).toEqual([]);
    expect(m.newTwice).toEqual([]);
    expect(m.notificationsTwice).toBe(0);
    // at most once: a courses replica killed between its commit and its publish may drop one
    expect(m.perPurchase.size).toBeLessThanOrEqual(m.enrollments);
  });

  it('a replica that hangs (accepts, never answers): timeouts trip its breaker, each client waits at most one timeout, once', async () => {
    const timeoutMs = 1000;
    const hgw = await stack.gateway({
      UPSTREAM_TIMEOUT_MS: String(timeoutMs),
      BREAKER_COOLDOWN_MS: '1000',
    });
    await hgw.ready();
    await waitForPool(hgw, 'courses', 2);
    const hang = await startHangingServer();
    stack.d.defer(() => hang.stop());
    let registeredAt = 0;
    let trippedAt = 0;
    const row = newRow(`a replica hangs (timeout ${timeoutMs} ms)`);
    const m = await measured(row, async () => {
      const outcomes = await boundedLoad({
        total: 200,
        concurrency: 4,
        gapMs: 5,
        send: async (i) => {
          const o = await gqlOutcome(hgw, i, 'read', READ, {
            variables: { id: ids[i % ids.length] },
          });
          if (registeredAt && !trippedAt && breakerOf(hgw, 'courses', hang.url) === 'open') trippedAt = Date.now();
          return o;
        },
        at: [
          {
            after: 20,
            run: async () => {
              // registered like a replica with the same SDL: the gateway routes to it without asking for its SDL
              const reg = await stack.client.register(
                {
                  service: 'courses',
                  url: hang.url,
                  sdlHash: sdlHash(coursesSdl),
                },
                { heartbeatMs: 500 },
              );
              stack.d.defer(() => reg.deregister());
              registeredAt = Date.now();
              await waitFor(
                () =>
                  hgw.pools
                    .get('courses')
                    .status()
                    .some((s) => s.url === hang.url),
                { what: 'the hanging replica in the pool' },
              );
            },
          },
        ],
      });
      await waitFor(() => breakerOf(hgw, 'courses', hang.url) === 'open', {
        timeoutMs: 5000,
        what: 'the hanging replica breaker to open',
      });
      const slow = outcomes.filter((o) => o.ms >= timeoutMs);
      // the half-open probe keeps failing against the hung process; clients never wait for it again
      const before = hgw.pools
        .get('courses')
        .status()
        .find((s) => s.url === hang.url)!.requests;
      const after = await boundedLoad({
        total: 40,
        concurrency: 4,
        send: (i) =>
          gqlOutcome(hgw, i, 'read', READ, {
            variables: { id: ids[i % ids.length] },
          }),
      });
      const routedAfter =
        hgw.pools
          .get('courses')
          .status()
          .find((s) => s.url === hang.url)!.requests - before;
      row.requests = outcomes.length + after.length;
      row.failed = failures(outcomes).length + failures(after).length;
      row.recoveryMs = trippedAt ? trippedAt - registeredAt : '-';
      row.note = `reads only; breaker open after it joined; ${slow.length} request(s) waited one timeout (max ${Math.max(0, ...outcomes.map((o) => o.ms))} ms); ${routedAfter} routed there once open`;
      return { outcomes, slow, after, routedAfter };
    });
    expect(failures(m.outcomes)).toEqual([]);
    // each slow request waited one timeout and was answered by the retry on a healthy replica
    for (const o of m.slow) expect(o.ms).toBeLessThan(2 * timeoutMs);
    // only the requests routed there before the breaker opened (threshold 3, 4 concurrent clients)
    expect(m.slow.length).toBeLessThanOrEqual(3 + 4);
    expect(hang.connections).toBeGreaterThan(0);
    expect(failures(m.after)).toEqual([]);
    expect(m.after.every((o) => o.ms < timeoutMs)).toBe(true);
    expect(m.routedAfter).toBe(0);
  });
});
