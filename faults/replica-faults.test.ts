import { sdlHash } from '@dream/common';
import { freePort, waitFor } from '@dream/common/testing';
import { Stack, breakerOf, getJson, startHangingServer, waitForPool, type ChildService } from '@dream/testenv';
import { coursesSdl } from '../subgraphs/courses/src/schema';
import type { Gateway } from '../gateway/src/server';
import { signup } from '../gateway/test/client/api';
import { countRows } from './db';
import { boundedLoad, failures, gqlOutcome, summary, type Outcome } from './load';
import { recordRow } from './report';

jest.setTimeout(180_000);

const READ = 'query Read($id: ID!) { course(id: $id) { id name owner { username } } }';
const WRITE = 'mutation Write($input: CreateCourseInput!) { createCourse(input: $input) { id name } }';
const BUY = 'mutation Buy($courseId: ID!, $key: String) { buyCourse(courseId: $courseId, idempotencyKey: $key) { enrollmentId alreadyOwned } }';

/** GraphQL requests a spawned replica has served, from its own /metrics. */
async function served(c: ChildService): Promise<number> {
  const { body } = await getJson(`${c.base}/metrics`);
  const m = /^subgraph_graphql_requests_total (\d+)/m.exec(String(body));
  return m ? Number(m[1]) : 0;
}

const urlOf = (c: ChildService) => `${c.base}/graphql`;

/**
 * Courses replicas as real processes (SIGKILL is a real crash: no deregistration, sockets reset),
 * users as a process too (it reaches courses over gRPC through discovery), the gateway in-process so
 * the test can read its pools and breakers.
 */
describe('courses replica faults under a bounded load', () => {
  const stack = new Stack({ discoveryTtlSeconds: 2 });
  let gw: Gateway;
  const courses: ChildService[] = [];
  const ports: number[] = [];
  let owner: { jwt: string; id: string };
  const ids: string[] = [];

  const spawnCourses = (port: number) => stack.spawnSubgraph('courses', { PORT: String(port) });

  beforeAll(async () => {
    await stack.start();
    ports.push(await freePort(), await freePort());
    const [, a, b] = await Promise.all([stack.spawnSubgraph('users'), spawnCourses(ports[0]), spawnCourses(ports[1])]);
    courses.push(a, b);
    gw = await stack.gateway({ BREAKER_COOLDOWN_MS: '500', UPSTREAM_TIMEOUT_MS: '2000' });
    await gw.ready();
    await waitFor(() => gw.supergraph.subgraphs.length === 2, { what: 'both subgraphs composed' });
    await waitForPool(gw, 'courses', 2);
    await waitForPool(gw, 'users', 1);
    owner = await signup(gw, 'OWNER');
    for (let i = 0; i < 40; i++) {
      const r = await gqlOutcome(gw, i, 'seed', WRITE, {
        token: owner.jwt,
        variables: { input: { name: `seed-${i}`, info: 'seed', category: 'faults', price: 10 } },
      });
      if (!r.ok) throw new Error(`seeding failed: ${r.message}`);
      ids.push(r.data!.createCourse.id);
    }
  });
  afterAll(() => stack.stop());

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
    const outcomes = await boundedLoad({
      total: 400,
      concurrency: 4,
      gapMs: 5,
      send: (i) =>
        i % 4 === 3
          ? gqlOutcome(gw, i, 'write', WRITE, {
              token: owner.jwt,
              key: `kill-w-${i}`,
              variables: { input: { name: `kill-w-${i}`, info: 'x', category: 'faults-kill', price: 1 } },
            })
          : gqlOutcome(gw, i, 'read', READ, { variables: { id: ids[i % ids.length] } }),
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
    expect(killedAt).toBeGreaterThan(0);
    const reads = outcomes.filter((o) => o.kind === 'read');
    const writes = outcomes.filter((o) => o.kind === 'write');
    expect(failures(reads)).toEqual([]);
    // a mutation in flight on the killed replica may fail (it is never replayed: it may have run), but
    // every write that answered success is recorded exactly once and no write is recorded twice
    const count = (name: string) => countRows(stack.dir, 'courses', 'select count(*) as n from courses where name = ?', name);
    const lost = writes.filter((w) => w.ok && count(w.key!) !== 1);
    const doubled = writes.filter((w) => count(w.key!) > 1);
    expect(lost).toEqual([]);
    expect(doubled).toEqual([]);
    expect(failures(writes).length).toBeLessThanOrEqual(4); // at most the writes in flight at the kill

    await waitFor(() => breakerOf(gw, 'courses', victimUrl) === 'open' || !gw.pools.get('courses').status().some((s) => s.url === victimUrl), {
      timeoutMs: 5000,
      what: 'the killed replica to be cut off',
    });
    await waitFor(() => !gw.pools.get('courses').status().some((s) => s.url === victimUrl), {
      timeoutMs: 8000,
      what: 'the killed replica to leave the pool (lease expiry)',
    });
    const leftAfter = Date.now() - killedAt;

    const { child, healthyAt } = await restart(1);
    await waitFor(() => gw.pools.get('courses').status().some((s) => s.url === urlOf(child) && s.state === 'closed'), {
      timeoutMs: 5000,
      what: 'the restarted replica to rejoin through discovery',
    });
    let extra = 0;
    await waitFor(
      async () => {
        const r = await gqlOutcome(gw, extra, 'read', READ, { variables: { id: ids[extra++ % ids.length] } });
        if (!r.ok) throw new Error(`read failed after restart: ${r.message}`);
        return (await served(child)) > 0;
      },
      { timeoutMs: 5000, intervalMs: 10, what: 'the restarted replica to serve traffic' },
    );
    const recovery = Date.now() - healthyAt;
    const rejoined = await served(child);
    expect(rejoined).toBeGreaterThan(0);
    recordRow({
      scenario: 'courses replica SIGKILLed mid-load',
      requests: outcomes.length + extra,
      failed: failures(outcomes).length,
      lostWrites: lost.length,
      duplicates: doubled.length,
      recoveryMs: recovery,
      note: `restarted replica serving (${failures(writes).length} in-flight write(s) failed, not replayed; left the pool ${(leftAfter / 1000).toFixed(1)} s after the kill)`,
    });
  });

  it('purchases during a replica kill: every success recorded exactly once, no failure recorded; a retry with the same key completes it once', async () => {
    const students = await Promise.all(Array.from({ length: 10 }, () => signup(gw, 'STUDENT')));
    const victim = courses[0];
    let killedAt = 0;
    // each (student, course) pair bought once with its own idempotency key
    const pairs = students.flatMap((s, si) => ids.slice(0, 20).map((c, ci) => ({ s, c, key: `p-${si}-${ci}` })));
    const send = (i: number): Promise<Outcome> => {
      const p = pairs[i];
      return gqlOutcome(gw, i, 'purchase', BUY, { token: p.s.jwt, key: p.key, variables: { courseId: p.c, key: p.key } });
    };
    const outcomes = await boundedLoad({
      total: pairs.length,
      concurrency: 4,
      send,
      at: [
        {
          after: 60,
          run: async () => {
            killedAt = Date.now();
            await victim.kill();
          },
        },
      ],
    });
    expect(killedAt).toBeGreaterThan(0);
    const recorded = (i: number) =>
      countRows(stack.dir, 'courses', 'select count(*) as n from enrollments where user_id = ? and course_id = ?', pairs[i].s.id, pairs[i].c);
    const succeeded = outcomes.filter((o) => o.ok);
    const failed = failures(outcomes);
    const lost = succeeded.filter((o) => recorded(o.i) !== 1);
    const doubled = outcomes.filter((o) => recorded(o.i) > 1);
    const failedButRecorded = failed.filter((o) => recorded(o.i) !== 0);
    expect(lost).toEqual([]);
    expect(doubled).toEqual([]);
    expect(failedButRecorded).toEqual([]);
    // clients retry what failed with the same key: each completes exactly once
    const retried = await Promise.all(failed.map((o) => send(o.i)));
    expect(failures(retried)).toEqual([]);
    for (const o of failed) expect(recorded(o.i)).toBe(1);
    // a repeat of a success buys nothing twice
    const again = await send(succeeded[0].i);
    expect(again.ok).toBe(true);
    expect(again.data!.buyCourse.alreadyOwned).toBe(true);
    expect(recorded(succeeded[0].i)).toBe(1);

    const { child, healthyAt } = await restart(0);
    await waitFor(() => gw.pools.get('courses').status().some((s) => s.url === urlOf(child) && s.state === 'closed'), {
      timeoutMs: 8000,
      what: 'the restarted replica to rejoin',
    });
    const recovery = Date.now() - healthyAt;
    recordRow({
      scenario: 'purchases during a courses replica SIGKILL',
      requests: outcomes.length + retried.length + 1,
      failed: failed.length,
      lostWrites: lost.length,
      duplicates: doubled.length,
      recoveryMs: recovery,
      note: `restarted replica back in the pool; ${failed.length} failed purchase(s) not recorded, retried once: all recorded once`,
    });
    if (failed.length) console.log(`purchase failures during the kill: ${summary(outcomes)}`);
  });

  it('a replica that hangs (accepts, never answers): timeouts trip its breaker, each client waits at most one timeout, once', async () => {
    const timeoutMs = 1000;
    const hgw = await stack.gateway({ UPSTREAM_TIMEOUT_MS: String(timeoutMs), BREAKER_COOLDOWN_MS: '1000' });
    await hgw.ready();
    await waitForPool(hgw, 'courses', 2);
    const hang = await startHangingServer();
    stack.d.defer(() => hang.stop());
    let registeredAt = 0;
    let trippedAt = 0;
    const outcomes = await boundedLoad({
      total: 200,
      concurrency: 4,
      gapMs: 5,
      send: async (i) => {
        const o = await gqlOutcome(hgw, i, 'read', READ, { variables: { id: ids[i % ids.length] } });
        if (registeredAt && !trippedAt && breakerOf(hgw, 'courses', hang.url) === 'open') trippedAt = Date.now();
        return o;
      },
      at: [
        {
          after: 20,
          run: async () => {
            // registered like a replica with the same SDL: the gateway routes to it without asking for its SDL
            const reg = await stack.client.register({ service: 'courses', url: hang.url, sdlHash: sdlHash(coursesSdl()) }, { heartbeatMs: 500 });
            stack.d.defer(() => reg.deregister());
            registeredAt = Date.now();
            await waitFor(() => hgw.pools.get('courses').status().some((s) => s.url === hang.url), { what: 'the hanging replica in the pool' });
          },
        },
      ],
    });
    await waitFor(() => breakerOf(hgw, 'courses', hang.url) === 'open', { timeoutMs: 5000, what: 'the hanging replica breaker to open' });
    expect(failures(outcomes)).toEqual([]);
    const slow = outcomes.filter((o) => o.ms >= timeoutMs);
    // each slow request waited one timeout and was answered by the retry on a healthy replica
    for (const o of slow) expect(o.ms).toBeLessThan(2 * timeoutMs);
    // only the requests routed there before the breaker opened (threshold 3, 4 concurrent clients)
    expect(slow.length).toBeLessThanOrEqual(3 + 4);
    expect(hang.connections).toBeGreaterThan(0);
    // the half-open probe keeps failing against the hung process; clients never wait for it again
    const before = hgw.pools.get('courses').status().find((s) => s.url === hang.url)!.requests;
    const after = await boundedLoad({ total: 40, concurrency: 4, send: (i) => gqlOutcome(hgw, i, 'read', READ, { variables: { id: ids[i % ids.length] } }) });
    expect(failures(after)).toEqual([]);
    expect(after.every((o) => o.ms < timeoutMs)).toBe(true);
    expect(hgw.pools.get('courses').status().find((s) => s.url === hang.url)!.requests).toBe(before);
    const tripMs = trippedAt ? trippedAt - registeredAt : NaN;
    recordRow({
      scenario: `a replica hangs (timeout ${timeoutMs} ms)`,
      requests: outcomes.length + after.length,
      failed: failures(outcomes).length + failures(after).length,
      lostWrites: 0,
      duplicates: 0,
      recoveryMs: Number.isFinite(tripMs) ? tripMs : '-',
      note: `breaker open after it joined; ${slow.length} request(s) waited one timeout (max ${Math.max(0, ...outcomes.map((o) => o.ms))} ms)`,
    });
  });
});
