import { DiscoveryClient, type ServicesSnapshot } from '@dream/common';
import { Disposables, startRedisServer, waitFor, waitForEvent, type RedisServerHandle } from '@dream/common/testing';
import { http, SnapshotLog, spawnDiscovery, startTestDiscovery, urlsOf } from './helpers';

const d = new Disposables();
let redis: RedisServerHandle;

beforeAll(async () => {
  redis = d.push(await startRedisServer(), (r) => r.stop());
});
afterAll(() => d.disposeAll());

const has = (service: string, url: string) => (s: ServicesSnapshot) => urlsOf(s, service).includes(url);
const lacks = (service: string, url: string) => (s: ServicesSnapshot) => !urlsOf(s, service).includes(url);

describe('TTL expiry', () => {
  it('removes an instance that stops heartbeating and tells watchers within ~1-2 s', async () => {
    const disc = d.push(await startTestDiscovery(redis.url, { ttlSeconds: 1, sweepMs: 200 }), (s) => s.stop());
    const log = new SnapshotLog();
    const watcher = new DiscoveryClient({ discoveryUrl: disc.url }).watch(log.push, { pollTimeoutMs: 5000 });
    d.defer(() => watcher.stop());
    await waitForEvent(log, 'snapshot');

    const url = 'http://10.9.9.9:4001/graphql';
    const seen = waitForEvent(log, 'snapshot', { filter: has('expiring', url), timeoutMs: 1000 });
    const reg = await http('POST', `${disc.url}/v1/instances`, { service: 'expiring', url });
    expect(reg.status).toBe(201);
    await seen;
    // no heartbeat: the 1 s lease runs out, the sweep (every 200 ms) removes it and wakes the watcher
    const registeredAt = Date.now();
    await waitForEvent(log, 'snapshot', { filter: lacks('expiring', url), timeoutMs: 3000 });
    expect(Date.now() - registeredAt).toBeGreaterThanOrEqual(800); // not removed before its lease ended
    expect((await http('GET', `${disc.url}/v1/services/expiring`)).body.instances).toEqual([]);
    expect((await http('PUT', `${disc.url}/v1/instances/${reg.body.id}/heartbeat`)).status).toBe(404);
  });
});

describe('two discovery processes on one Redis', () => {
  it('share state, and a watcher on B sees a registration done on A (and the reverse)', async () => {
    const a = d.push(await startTestDiscovery(redis.url), (s) => s.stop());
    const b = d.push(await spawnDiscovery({ REDIS_URL: redis.url }), (p) => p.stop());

    const logB = new SnapshotLog();
    const watchB = new DiscoveryClient({ discoveryUrl: b.url }).watch(logB.push, { pollTimeoutMs: 5000 });
    d.defer(() => watchB.stop());
    const logA = new SnapshotLog();
    const watchA = new DiscoveryClient({ discoveryUrl: a.url }).watch(logA.push, { pollTimeoutMs: 5000 });
    d.defer(() => watchA.stop());
    await Promise.all([waitForEvent(logA, 'snapshot'), waitForEvent(logB, 'snapshot')]);

    const url = 'http://10.1.1.1:4001/graphql';
    const onB = waitForEvent(logB, 'snapshot', { filter: has('shared', url), timeoutMs: 1000 });
    const reg = await http('POST', `${a.url}/v1/instances`, { service: 'shared', url });
    await onB;
    expect((await http('GET', `${b.url}/v1/services/shared`)).body.instances).toEqual([
      expect.objectContaining({ id: reg.body.id, url }),
    ]);
    // heartbeats and deregistration work on either
    expect((await http('PUT', `${b.url}/v1/instances/${reg.body.id}/heartbeat`)).status).toBe(204);
    const onA = waitForEvent(logA, 'snapshot', { filter: lacks('shared', url), timeoutMs: 1000 });
    expect((await http('DELETE', `${b.url}/v1/instances/${reg.body.id}`)).status).toBe(204);
    await onA;
    // both report the same version
    const [va, vb] = await Promise.all([http('GET', `${a.url}/v1/services`), http('GET', `${b.url}/v1/services`)]);
    expect(va.body).toEqual(vb.body);
  });
});

describe('restart', () => {
  it('a restarted discovery (same port) still lists the instances registered before', async () => {
    const first = d.push(await startTestDiscovery(redis.url), (s) => s.stop());
    const url = 'http://10.2.2.2:4001/graphql';
    const reg = await http('POST', `${first.url}/v1/instances`, { service: 'survivor', url, sdlHash: 'h1' });
    const before = await http('GET', `${first.url}/v1/services/survivor`);
    await first.stop();

    const second = d.push(await startTestDiscovery(redis.url, { port: first.port }), (s) => s.stop());
    expect(second.url).toBe(first.url);
    const after = await http('GET', `${second.url}/v1/services/survivor`);
    expect(after.body).toEqual(before.body);
    expect(after.body.instances[0]).toEqual(expect.objectContaining({ id: reg.body.id, sdlHash: 'h1' }));
    // the lease is still valid: the instance's next heartbeat is accepted
    expect((await http('PUT', `${second.url}/v1/instances/${reg.body.id}/heartbeat`)).status).toBe(204);
  });

  it('the process shuts down cleanly on SIGTERM (exit 0) and answers pending watches first', async () => {
    const p = await spawnDiscovery({ REDIS_URL: redis.url });
    expect((await http('GET', `${p.url}/health`)).status).toBe(200);
    const v = (await http('GET', `${p.url}/v1/watch`)).body.version as number;
    const pending = http('GET', `${p.url}/v1/watch?since=${v}&timeoutMs=30000`);
    const code = p.stop();
    expect((await pending).status).toBe(200);
    expect(await code).toBe(0);
  });
});

describe('health follows Redis', () => {
  it('200 → Redis stopped → 500 with a reason (API answers 503) → Redis back → 200', async () => {
    const own = d.push(await startRedisServer(), (r) => r.stop());
    const disc = d.push(await startTestDiscovery(own.url), (s) => s.stop());
    expect(await http('GET', `${disc.url}/health`)).toEqual({ status: 200, body: { status: 'ok' } });

    await own.stop();
    const down = await waitFor(
      async () => {
        const r = await http('GET', `${disc.url}/health`);
        return r.status === 500 ? r : undefined;
      },
      { timeoutMs: 10000, what: 'health 500' },
    );
    expect(down.body).toEqual({ status: 'down', reason: expect.stringMatching(/redis/i) });
    const reg = await http('POST', `${disc.url}/v1/instances`, { service: 'users', url: 'http://a:1/graphql' });
    expect(reg.status).toBe(503);
    expect(reg.body.error.code).toBe('SERVICE_UNAVAILABLE');
    expect((await http('GET', `${disc.url}/v1/services`)).status).toBe(503);

    await own.start();
    await waitFor(async () => (await http('GET', `${disc.url}/health`)).status === 200, { timeoutMs: 10000, what: 'health 200 again' });
    expect((await http('POST', `${disc.url}/v1/instances`, { service: 'users', url: 'http://a:1/graphql' })).status).toBe(201);
  });
});

describe('discovery losing its state (Redis restarted empty)', () => {
  it('watchers keep the instances that have not re-registered yet for the grace period, then follow discovery again', async () => {
    const own = d.push(await startRedisServer(), (r) => r.stop());
    const disc = d.push(await startTestDiscovery(own.url), (s) => s.stop());
    const log = new SnapshotLog();
    const watcher = new DiscoveryClient({ discoveryUrl: disc.url }).watch(log.push, { pollTimeoutMs: 2000, stateLossGraceMs: 1500 });
    d.defer(() => watcher.stop());
    const a = 'http://10.2.2.1:4001/graphql';
    const b = 'http://10.2.2.2:4001/graphql';
    const both = waitForEvent(log, 'snapshot', { filter: (s: ServicesSnapshot) => urlsOf(s, 'svc').length === 2, timeoutMs: 2000 });
    await http('POST', `${disc.url}/v1/instances`, { service: 'svc', url: a });
    await http('POST', `${disc.url}/v1/instances`, { service: 'svc', url: b });
    await both;

    await own.stop();
    await own.start(); // empty: the version starts again from 0
    // only `a` comes back: `b` is still reported (it may be re-registering), and `a` is not doubled
    const back = waitForEvent(log, 'snapshot', { filter: (s: ServicesSnapshot) => s.version < 3 && urlsOf(s, 'svc').includes(a), timeoutMs: 5000 });
    await waitFor(async () => (await http('POST', `${disc.url}/v1/instances`, { service: 'svc', url: a })).status === 201, { what: 'discovery on the new Redis' });
    const merged = (await back) as ServicesSnapshot;
    expect(urlsOf(merged, 'svc')).toEqual([a, b]);
    // after the grace period the watcher reports what discovery knows
    await waitForEvent(log, 'snapshot', { filter: (s: ServicesSnapshot) => urlsOf(s, 'svc').length === 1, timeoutMs: 4000 });
    expect(urlsOf(log.last, 'svc')).toEqual([a]);
  });
});
