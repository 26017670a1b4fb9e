import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { loadJwtKeys } from '@dream/common';
import { Disposables, fetchBody, freePort, waitFor } from '@dream/common/testing';
import { Stack, startProcess, type ChildService } from '@dream/testenv';
import type { Gateway } from '../../gateway/src/server';
import { signup } from '../../gateway/test/client/api';
import { gqlWsClient, rawSocket, subscribe } from '../../gateway/test/client/ws-clients';
import { countRows } from '../db';
import { failures, gqlOutcome } from '../load';
import { recordRow } from '../report';
import { steadyLoad } from './steady';
import { redisPing } from './topology';

jest.setTimeout(240_000);

const hasSentinel = (() => {
  try {
    execFileSync('sh', ['-c', 'command -v redis-server && command -v redis-sentinel'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();
const maybe = hasSentinel ? describe : describe.skip;
if (!hasSentinel) console.warn('Sentinel failover test skipped: apt-get install -y redis-server redis-sentinel');

const MASTER = 'dream';
const READ = 'query Read($id: ID!) { course(id: $id) { id name price owner { username } } }';
const WRITE = 'mutation Write($input: CreateCourseInput!) { createCourse(input: $input) { id name } }';
const BUY = 'mutation Buy($courseId: ID!, $key: String) { buyCourse(courseId: $courseId, idempotencyKey: $key) { enrollmentId alreadyOwned } }';

/**
 * Redis high availability: a primary, a replica and three sentinels on loopback; every service is
 * configured with REDIS_SENTINELS only. The primary is SIGKILLed under a load of reads and purchases.
 */
maybe('Redis Sentinel failover under load', () => {
  const d = new Disposables();
  // only its process spawner and folder are used: every service here is a real process
  const stack = new Stack();
  let dir: string;
  const redisPorts: number[] = [];
  const sentinelPorts: number[] = [];
  let primary: ChildService;
  let gw: { url: string };
  let discoveryBase: string;
  let owner: { jwt: string; id: string };
  const ids: string[] = [];

  const redisProcess = (name: string, port: number, args: string[]) =>
    startProcess(d, {
      name,
      command: 'redis-server',
      // replication writes an RDB even with --save '': into this test's folder, never the repository's
      args: [...args, '--dir', dir, '--dbfilename', `${name}.rdb`],
      env: {},
      logFile: join(dir, `${name}.log`),
      port,
      ready: () => redisPing('127.0.0.1', port),
    });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'dream-sentinel-'));
    stack.dir = dir;
    d.defer(() => (process.env.KEEP_TEST_DIR ? console.warn(`logs kept in ${dir}`) : rmSync(dir, { recursive: true, force: true })));
    d.defer(() => stack.stop());
    loadJwtKeys({ JWT_KEYS_DIR: join(dir, 'keys') });
    for (let i = 0; i < 2; i++) redisPorts.push(await freePort());
    for (let i = 0; i < 3; i++) sentinelPorts.push(await freePort());
    const base = ['--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'];
    primary = await redisProcess('redis-primary', redisPorts[0], ['--port', String(redisPorts[0]), ...base]);
    await redisProcess('redis-replica', redisPorts[1], ['--port', String(redisPorts[1]), ...base, '--replicaof', '127.0.0.1', String(redisPorts[0])]);
    for (const [k, port] of sentinelPorts.entries()) {
      const conf = join(dir, `sentinel-${k}.conf`);
      writeFileSync(
        conf,
        [
          `port ${port}`,
          'bind 127.0.0.1',
          `dir ${dir}`,
          `sentinel monitor ${MASTER} 127.0.0.1 ${redisPorts[0]} 2`,
          `sentinel down-after-milliseconds ${MASTER} 1000`,
          `sentinel failover-timeout ${MASTER} 10000`,
          `sentinel parallel-syncs ${MASTER} 1`,
          '',
        ].join('\n'),
      );
      await startProcess(d, { name: `sentinel-${k}`, command: 'redis-sentinel', args: [conf], env: {}, logFile: join(dir, `sentinel-${k}.log`), port, ready: () => redisPing('127.0.0.1', port) });
    }
    const s0 = new Redis(sentinelPorts[0], '127.0.0.1', { lazyConnect: true });
    d.defer(() => s0.disconnect());
    await s0.connect();
    await waitFor(
      async () => {
        const replicas = (await s0.call('SENTINEL', 'REPLICAS', MASTER)) as unknown[];
        const sentinels = (await s0.call('SENTINEL', 'SENTINELS', MASTER)) as unknown[];
        return replicas.length === 1 && sentinels.length === 2;
      },
      { timeoutMs: 30_000, intervalMs: 200, what: 'sentinels to see the replica and each other' },
    );

    const env = {
      REDIS_SENTINELS: sentinelPorts.map((p) => `127.0.0.1:${p}`).join(','),
      REDIS_MASTER_NAME: MASTER,
      JWT_KEYS_DIR: join(dir, 'keys'),
      LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'warn',
      HOST: '127.0.0.1',
      // the services run with NODE_ENV=production, which refuses to start without the service secrets
      DISCOVERY_TOKEN: stack.discoveryToken,
      SERVICE_TOKEN: stack.serviceToken,
    };
    // generous start-up bounds: CI shares two cores with everything else
    const slowStart = { timeoutMs: 90_000 };
    // the default 10 s lease: longer than a failover (detection 1 s + election), so heartbeats missed while
    // Redis switches do not expire anyone (with a lease shorter than the failover, pools would empty)
    const discovery = await stack.spawn('discovery', 'discovery/src/main.ts', { ...env, DISCOVERY_SWEEP_MS: '200' }, slowStart);
    discoveryBase = discovery.base;
    const subgraph = (service: 'users' | 'courses', name: string) =>
      stack.spawn(name, `subgraphs/${service}/src/main.ts`, {
        ...env,
        DISCOVERY_URL: discovery.base,
        ADVERTISE_HOST: '127.0.0.1',
        DATABASE_URL: `sqlite:${join(dir, `${service}.db`)}`,
      }, slowStart);
    // one courses replica first: it creates and migrates the shared SQLite file (concurrent first migrations race)
    await Promise.all([subgraph('users', 'users'), subgraph('courses', 'courses-1')]);
    await subgraph('courses', 'courses-2');
    const g = await stack.spawn(
      'gateway',
      'gateway/src/main.ts',
      // one process: /ready (which the set-up waits on) reports the pools of the worker that answered
      { ...env, DISCOVERY_URL: discovery.base, UPSTREAM_TIMEOUT_MS: '5000', BREAKER_COOLDOWN_MS: '1000', ACCESS_LOG: 'false', GATEWAY_WORKERS: '1' },
      { healthPath: '/ready', ...slowStart },
    );
    gw = { url: g.base };
    await waitFor(async () => ((await fetchBody(`${g.base}/ready`)).body?.subgraphs?.courses?.instances?.length ?? 0) === 2, {
      timeoutMs: 30_000,
      what: 'both courses replicas in the pool',
    });
    owner = await signup(gw as unknown as Gateway, 'OWNER');
    for (let i = 0; i < 10; i++) {
      const r = await gqlOutcome(gw, i, 'seed', WRITE, { token: owner.jwt, variables: { input: { name: `ha-seed-${i}`, info: 's', category: 'ha', price: 3 } } });
      if (!r.ok) throw new Error(`seeding failed: ${r.message}`);
      ids.push(r.data!.createCourse.id);
    }
  });
  afterAll(() => d.disposeAll());

  it('the primary SIGKILLed under load: services follow the failover; no acknowledged purchase lost or doubled; discovery keeps its instances; subscribers get later events; revocations hold', async () => {
    const row = { scenario: 'Redis primary SIGKILLed (Sentinel failover)', requests: 0, failed: 0, lostWrites: 0 as number | string, duplicates: 0 as number | string, recoveryMs: '-' as number | string, note: '' };
    const students = await Promise.all(Array.from({ length: 3 }, () => signup(gw as unknown as Gateway, 'STUDENT')));
    // a token revoked before the failover (and replicated: the replica holds it)
    const revoked = await signup(gw as unknown as Gateway, 'STUDENT');
    expect((await gqlOutcome(gw, 0, 'logout', 'mutation { logout }', { token: revoked.jwt })).ok).toBe(true);
    const replica = new Redis(redisPorts[1], '127.0.0.1', { lazyConnect: true });
    d.defer(() => replica.disconnect());
    await replica.connect();
    await waitFor(async () => (await replica.keys('jwt:revoked:*')).length >= 1, { timeoutMs: 10_000, what: 'the revocation replicated' });

    const listener = await signup(gw as unknown as Gateway, 'STUDENT');
    const client = gqlWsClient(d, gw as unknown as Gateway, { jwt: listener.jwt });
    const sub = subscribe<{ courseCreated: { id: string } }>(client, 'subscription { courseCreated(category: "after-failover") { id } }');
    const list = rawSocket(d, gw as unknown as Gateway, '/courses', { headers: { authorization: `Bearer ${listener.jwt}` } });
    await list.opened;
    await list.inbox.take(Array.isArray, 5000, 'the initial course list');
    // the subscription is live once an event published now arrives
    await waitFor(async () => (await gqlOutcome(gw, 0, 'w', WRITE, { token: owner.jwt, variables: { input: { name: `pre-${Date.now()}`, info: 'x', category: 'after-failover', price: 1 } } })).ok);
    await sub.inbox.take((v) => !!v.data?.courseCreated, 10_000, 'an event before the failover');

    const pairs = students.flatMap((s, si) => ids.map((c, ci) => ({ s, c, key: `ha-buy-${si}-${ci}` })));
    const load = steadyLoad({
      concurrency: 4,
      gapMs: 20,
      maxRequests: 600,
      maxMs: 90_000,
      send: (i) =>
        i % 2 === 0 && i / 2 < pairs.length
          ? gqlOutcome(gw, i, 'purchase', BUY, { token: pairs[i / 2].s.jwt, key: pairs[i / 2].key, variables: { courseId: pairs[i / 2].c, key: pairs[i / 2].key } })
          : gqlOutcome(gw, i, 'read', READ, { variables: { id: ids[i % ids.length] } }),
    });
    try {
      await waitFor(() => load.outcomes.length >= 20, { timeoutMs: 20_000, what: 'load under way' });
      const s0 = new Redis(sentinelPorts[0], '127.0.0.1', { lazyConnect: true });
      d.defer(() => s0.disconnect());
      await s0.connect();
      await primary.kill();
      const killedAt = Date.now();
      await waitFor(async () => ((await s0.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', MASTER)) as string[])[1] === String(redisPorts[1]), {
        timeoutMs: 30_000,
        intervalMs: 100,
        what: 'the sentinels to promote the replica',
      });
      const promotedAt = Date.now();
      // services follow: courses created now are published through the new primary and reach both kinds of
      // subscriber. (Pub/sub is at most once: a course created while a publisher is still reconnecting is
      // saved but its live event is dropped, so the client-side check is "an event published after the
      // promotion arrives", creating one course a second until it does.)
      const created = new Set<string>();
      const arrived = (id?: string) => !!id && created.has(id);
      await waitFor(async () => {
        const w = await gqlOutcome(gw, 0, 'write', WRITE, { token: owner.jwt, variables: { input: { name: `after-${Date.now()}`, info: 'x', category: 'after-failover', price: 1 } } });
        if (w.ok) created.add(w.data!.createCourse.id);
        return sub.inbox.values.some((v) => arrived(v.data?.courseCreated?.id));
      }, { timeoutMs: 30_000, intervalMs: 1000, what: 'courseCreated published after the failover' });
      const event = await sub.inbox.take((v) => arrived(v.data?.courseCreated?.id), 1000, 'the event');
      const firstSeen = event.data!.courseCreated.id;
      await list.inbox.take((v) => Array.isArray(v) && v.some((c: { courseId: string }) => c.courseId === firstSeen), 20_000, 'the WS list with the new course');
      row.recoveryMs = Date.now() - killedAt;
      // the new primary carries the platform's state: cache entries and discovery's instances
      const newPrimary = new Redis(redisPorts[1], '127.0.0.1', { lazyConnect: true });
      d.defer(() => newPrimary.disconnect());
      await newPrimary.connect();
      expect((await newPrimary.info('replication')).includes('role:master')).toBe(true);
      // discovery (its state lives in Redis) answers again from the new primary with every instance
      await waitFor(async () => {
        const { status, body } = await fetchBody(`${discoveryBase}/v1/services`, { headers: { authorization: `Bearer ${stack.discoveryToken}` } });
        const services = (body as { services?: Record<string, unknown[]> })?.services;
        return status === 200 && services?.courses?.length === 2 && services?.users?.length === 1;
      }, { timeoutMs: 20_000, intervalMs: 200, what: 'discovery listing 2 courses and 1 users instance after the failover' });
      // the revocation made before the failover still holds, on every path
      const denied = await gqlOutcome(gw, 0, 'revoked', BUY, { token: revoked.jwt, variables: { courseId: ids[0], key: 'revoked-after-failover' } });
      expect(denied.code).toBe('UNAUTHENTICATED');
      await waitFor(() => load.outcomes.length >= 200 || load.outcomes.filter((o) => o.at > promotedAt).length >= 60, { timeoutMs: 60_000, what: 'load after the failover' });
      const outcomes = await load.stop();
      const purchases = outcomes.filter((o) => o.kind === 'purchase');
      // a purchase that failed during the switch is retried by its client with the same key
      for (const f of failures(purchases)) expect((await gqlOutcome(gw, f.i, 'purchase', BUY, { token: pairs[f.i / 2].s.jwt, variables: { courseId: pairs[f.i / 2].c, key: pairs[f.i / 2].key } })).ok).toBe(true);
      const enrolled = (i: number) => countRows(dir, 'courses', 'select count(*) as n from enrollments where user_id = ? and course_id = ?', pairs[i / 2].s.id, pairs[i / 2].c);
      const lost = purchases.filter((p) => p.ok && enrolled(p.i) !== 1);
      const doubled = purchases.filter((p) => enrolled(p.i) > 1);
      row.requests = outcomes.length;
      row.failed = failures(outcomes).length;
      row.lostWrites = lost.length;
      row.duplicates = doubled.length;
      row.note = `replica promoted ${((promotedAt - killedAt) / 1000).toFixed(1)} s after the kill; recovery = kill → graphql-ws and WS-list clients got a course created on the new primary; revoked token still refused; discovery kept 3 instances`;
      expect(lost).toEqual([]);
      expect(doubled).toEqual([]);
      expect(failures(outcomes.filter((o) => o.kind === 'read'))).toEqual([]);
    } finally {
      await load.stop();
      recordRow(row);
    }
  });
});
