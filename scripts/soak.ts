/**
 * `npm run soak -- --minutes N` (root; not in CI): the platform on private test hosts (network namespaces,
 * see faults/network/) under a mixed load — GraphQL browse, REST course lists, purchases, course writes,
 * a graphql-ws subscriber — for N minutes while a chaos schedule, every 20–40 s, kills and restarts a
 * courses replica, discovery or Redis, or cuts a replica from the gateway or from Redis for a while.
 * At the end: the reliability table row, purchases answered success against purchases recorded, and each
 * process's resident memory over time with its slope (a leak shows as a steady climb).
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { waitFor } from '@dream/common/testing';
import type { ChildService } from '@dream/testenv';
import type { Gateway } from '../gateway/src/server';
import { signup } from '../gateway/test/client/api';
import { Disposables } from '@dream/common/testing';
import { gqlWsClient, subscribe } from '../gateway/test/client/ws-clients';
import { countRows } from '../faults/db';
import { failures, gqlOutcome, type Outcome } from '../faults/load';
import { formatTable } from '../faults/report';
import { netnsSupported, type Fault } from '../faults/network/netns';
import { percentile, steadyLoad } from '../faults/network/steady';
import { NetStack } from '../faults/network/topology';

const { values } = parseArgs({ options: { minutes: { type: 'string', default: '10' } } });
const minutes = Number(values.minutes);
if (!Number.isFinite(minutes) || minutes <= 0 || minutes > 120) throw new Error('--minutes must be a number in (0, 120]');

const READ = 'query Read($id: ID!) { course(id: $id) { id name price owner { username } } }';
const WRITE = 'mutation Write($input: CreateCourseInput!) { createCourse(input: $input) { id name } }';
const BUY = 'mutation Buy($courseId: ID!, $key: String) { buyCourse(courseId: $courseId, idempotencyKey: $key) { enrollmentId alreadyOwned } }';

const log = (msg: string) => process.stdout.write(`[soak ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));
const rssMb = (pid: number): number | undefined => {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
};
/** Least-squares slope of (minutes, MB) points, in MB per minute. */
function slope(points: Array<[number, number]>): number {
  const n = points.length;
  if (n < 2) return 0;
  const mx = points.reduce((a, [x]) => a + x, 0) / n;
  const my = points.reduce((a, [, y]) => a + y, 0) / n;
  const num = points.reduce((a, [x, y]) => a + (x - mx) * (y - my), 0);
  const den = points.reduce((a, [x]) => a + (x - mx) ** 2, 0);
  return den === 0 ? 0 : num / den;
}

async function main(): Promise<void> {
  const support = netnsSupported();
  if (!support.ok) throw new Error(`the soak needs network namespaces: ${support.why}`);
  const stack = new NetStack();
  const d = new Disposables();
  const stopAll = async () => {
    await d.disposeAll();
    await stack.stop();
  };
  process.once('SIGINT', () => void stopAll().then(() => process.exit(130)));
  try {
    await stack.start();
    await stack.redis();
    await stack.discovery();
    const courses: Record<string, ChildService> = { c1: await stack.subgraph('courses', 'c1') };
    courses.c2 = await stack.subgraph('courses', 'c2');
    await stack.subgraph('users', 'users');
    const gwProc = await stack.gateway({ UPSTREAM_TIMEOUT_MS: '5000' });
    const gw = { url: gwProc.base };
    await waitFor(async () => (await stack.ready()).subgraphs?.courses?.instances.length === 2, { timeoutMs: 60_000, what: 'courses pool of 2' });
    const owner = await signup(gw as unknown as Gateway, 'OWNER');
    const ids: string[] = [];
    for (let i = 0; i < 20; i++) {
      const r = await gqlOutcome(gw, i, 'seed', WRITE, { token: owner.jwt, variables: { input: { name: `soak-seed-${i}`, info: 's', category: 'soak', price: 5 } } });
      if (!r.ok) throw new Error(`seeding failed: ${r.message}`);
      ids.push(r.data!.createCourse.id);
    }
    const students = await Promise.all(Array.from({ length: 10 }, () => signup(gw as unknown as Gateway, 'STUDENT')));
    const listener = await signup(gw as unknown as Gateway, 'STUDENT');
    const sub = subscribe<{ courseCreated: { id: string } }>(gqlWsClient(d, gw as unknown as Gateway, { jwt: listener.jwt }), 'subscription { courseCreated(category: "soak-w") { id } }');

    // each (student, course) pair is bought with its own key; later rounds repeat them (must answer alreadyOwned)
    const pairs = students.flatMap((s, si) => ids.map((c, ci) => ({ s, c, key: `soak-${si}-${ci}` })));
    let buys = 0;
    const send = async (i: number): Promise<Outcome> => {
      const k = i % 10;
      if (k < 5) return gqlOutcome(gw, i, 'browse', READ, { variables: { id: ids[i % ids.length] } });
      if (k < 7) {
        const started = Date.now();
        const res = await fetch(`${gw.url}/api/courses?category=soak`, { headers: { jwt: owner.jwt }, signal: AbortSignal.timeout(15_000) }).catch((e: Error) => e);
        if (res instanceof Error) return { i, kind: 'rest', ok: false, status: 0, ms: Date.now() - started, message: res.message };
        await res.body?.cancel();
        return { i, kind: 'rest', ok: res.status === 200, status: res.status, ms: Date.now() - started };
      }
      if (k < 9) {
        const p = pairs[buys++ % pairs.length];
        return gqlOutcome(gw, i, 'buy', BUY, { token: p.s.jwt, key: p.key, variables: { courseId: p.c, key: p.key } });
      }
      return gqlOutcome(gw, i, 'write', WRITE, { token: owner.jwt, key: `soak-w-${i}`, variables: { input: { name: `soak-w-${i}`, info: 'x', category: 'soak-w', price: 1 } } });
    };

    const memory = new Map<string, Array<[number, number]>>();
    const started = Date.now();
    const sample = () => {
      for (const [name, p] of stack.procs) {
        if (p.exited) continue;
        const mb = rssMb(p.pid);
        // a restarted process is a new series
        const key = `${name}#${p.pid}`;
        if (mb !== undefined) memory.set(key, [...(memory.get(key) ?? []), [(Date.now() - started) / 60_000, mb]]);
      }
    };
    const sampler = setInterval(sample, 10_000);
    sample();

    const durationMs = minutes * 60_000;
    log(`load for ${minutes} min with chaos every 20–40 s`);
    const load = steadyLoad({ concurrency: 4, gapMs: 25, maxRequests: Math.ceil(minutes * 60 * 160), maxMs: durationMs, send });
    const h = Object.fromEntries(stack.hosts.entries());
    const chaos: string[] = [];
    const faults: Fault[] = [];
    const actions: Array<[string, () => Promise<void>]> = [
      ['SIGKILL c1, restart after 5 s', async () => {
        await courses.c1.kill();
        await pause(5000);
        courses.c1 = await stack.subgraph('courses', 'c1');
      }],
      ['SIGKILL c2, restart after 5 s', async () => {
        await courses.c2.kill();
        await pause(5000);
        courses.c2 = await stack.subgraph('courses', 'c2');
      }],
      ['cut c1 from the gateway for 8 s', async () => {
        const f = await stack.net.cut(h.gateway, h.c1);
        faults.push(f);
        await pause(8000);
        await f.heal();
      }],
      ['cut c2 from Redis for 8 s', async () => {
        const f = await stack.net.cut(h.c2, h.redis);
        faults.push(f);
        await pause(8000);
        await f.heal();
      }],
      ['SIGKILL discovery, restart after 3 s', async () => {
        await stack.procs.get('discovery')!.kill();
        await pause(3000);
        await stack.discovery();
      }],
      ['SIGKILL Redis, restart (empty) after 3 s', async () => {
        await stack.procs.get('redis')!.kill();
        await pause(3000);
        await stack.redis();
      }],
    ];
    let round = 0;
    while (Date.now() - started < durationMs - 25_000) {
      await pause(20_000 + Math.random() * 20_000);
      if (Date.now() - started >= durationMs - 15_000) break;
      const [what, run] = actions[round++ % actions.length];
      log(`chaos: ${what}`);
      chaos.push(what);
      try {
        await run();
      } catch (err) {
        log(`chaos step failed: ${(err as Error).message}`);
      }
    }
    const outcomes = await load.stop();
    for (const f of faults) await f.heal();
    clearInterval(sampler);
    sample();

    // ground truth from the database
    const acknowledged = new Set(outcomes.filter((o) => o.kind === 'buy' && o.ok).map((o) => o.key!));
    const recordedPairs = pairs.filter((p) => countRows(stack.dir, 'courses', 'select count(*) as n from enrollments where user_id = ? and course_id = ?', p.s.id, p.c) > 0);
    const doubled = pairs.filter((p) => countRows(stack.dir, 'courses', 'select count(*) as n from enrollments where user_id = ? and course_id = ?', p.s.id, p.c) > 1);
    const lostPurchases = [...acknowledged].filter((key) => !recordedPairs.some((p) => p.key === key));
    const writes = outcomes.filter((o) => o.kind === 'write');
    const lostWrites = writes.filter((w) => w.ok && countRows(stack.dir, 'courses', 'select count(*) as n from courses where name = ?', w.key) !== 1);
    const doubledWrites = writes.filter((w) => countRows(stack.dir, 'courses', 'select count(*) as n from courses where name = ?', w.key) > 1);
    const byKind = (k: string) => {
      const o = outcomes.filter((x) => x.kind === k);
      return `${k} ${o.length} (${failures(o).length} failed, p99 ${percentile(o, 99)} ms)`;
    };
    const table = formatTable([
      {
        scenario: `soak ${minutes} min, chaos every 20–40 s (${chaos.length} faults)`,
        requests: outcomes.length,
        failed: failures(outcomes).length,
        lostWrites: lostWrites.length + lostPurchases.length,
        duplicates: doubled.length + doubledWrites.length,
        recoveryMs: '-',
        note: [byKind('browse'), byKind('rest'), byKind('buy'), byKind('write'), `${sub.inbox.values.length} courseCreated events received`].join('; '),
      },
    ]);
    const mem = [...memory.entries()].map(([name, pts]) => {
      const first = pts[0][1];
      const last = pts[pts.length - 1][1];
      const spanMin = pts[pts.length - 1][0] - pts[0][0];
      return `| ${name.padEnd(18)} | ${spanMin.toFixed(1).padStart(6)} min | ${first.toFixed(0).padStart(5)} MB | ${last.toFixed(0).padStart(5)} MB | ${Math.max(...pts.map((p) => p[1])).toFixed(0).padStart(5)} MB | ${slope(pts).toFixed(2).padStart(6)} MB/min |`;
    });
    process.stdout.write(
      [
        '',
        table,
        '',
        `purchases: ${acknowledged.size} distinct purchases answered success, ${recordedPairs.length} recorded (${lostPurchases.length} acknowledged but missing, ${doubled.length} recorded twice)`,
        `chaos: ${chaos.join('; ')}`,
        '',
        '| process (pid)      |   lived    | first RSS | last RSS |  max RSS | slope (RSS) |',
        '|--------------------|------------|----------|----------|----------|-------------|',
        ...mem,
        '',
      ].join('\n'),
    );
  } finally {
    await stopAll();
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    process.stderr.write(`soak failed: ${(err as Error).stack ?? err}\n`);
    process.exit(1);
  },
);
