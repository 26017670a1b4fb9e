import { Redis } from 'ioredis';
import { createLogger, DiscoveryClient, installShutdown, type Registration, type ServicesSnapshot } from '@dream/common';
import { Disposables, freePort, startRedisServer, waitFor, waitForEvent, type RedisServerHandle } from '@dream/common/testing';
import type { DiscoveryHandle } from '../src/server';
import { http, SnapshotLog, startTestDiscovery, urlsOf } from './helpers';

const d = new Disposables();
let redis: RedisServerHandle;
let disc: DiscoveryHandle;
let client: DiscoveryClient;

beforeAll(async () => {
  redis = d.push(await startRedisServer(), (r) => r.stop());
  disc = d.push(await startTestDiscovery(redis.url, { ttlSeconds: 1, sweepMs: 100 }), (s) => s.stop());
  client = new DiscoveryClient({ discoveryUrl: disc.url, fetchTimeoutMs: 1000 });
});
afterAll(() => d.disposeAll());

const listed = async (c: DiscoveryClient, service: string) => urlsOf(await c.list(), service);
const register = async (c: DiscoveryClient, info: Parameters<DiscoveryClient['register']>[0], opts?: Parameters<DiscoveryClient['register']>[1]) =>
  d.push(await c.register(info, opts), (r) => r.deregister());

describe('DiscoveryClient.register', () => {
  it('registers, keeps the lease alive past its TTL with heartbeats, and deregisters', async () => {
    const url = 'http://127.0.0.1:4101/graphql';
    const reg = await register(client, { service: 'users', url, grpcUrl: '127.0.0.1:5101', sdlHash: 'abc' });
    expect(reg.registered).toBe(true);
    expect(reg.id).toEqual(expect.any(String));
    const snap = await client.list();
    expect(snap.services.users).toContainEqual(
      expect.objectContaining({ id: reg.id, url, grpcUrl: '127.0.0.1:5101', sdlHash: 'abc' }),
    );
    // the TTL is 1 s: still listed after a heartbeat that came well after the registration's lease ended
    const registeredAt = Date.parse(snap.services.users!.find((i) => i.id === reg.id)!.registeredAt);
    await waitFor(
      async () => {
        const inst = (await client.list()).services.users?.find((i) => i.id === reg.id);
        return inst && Date.parse(inst.lastHeartbeat) - registeredAt > 1500;
      },
      { timeoutMs: 5000, what: 'a heartbeat 1.5 s after registration' },
    );
    expect(await listed(client, 'users')).toContain(url);

    await reg.deregister();
    expect(reg.registered).toBe(false);
    expect(await listed(client, 'users')).not.toContain(url);
    await reg.deregister(); // idempotent
  });

  it('re-registers (same id) when discovery forgot its lease', async () => {
    const url = 'http://127.0.0.1:4102/graphql';
    const reg = await register(client, { service: 'courses', url }, { heartbeatMs: 150 });
    const id = reg.id;
    // discovery loses the instance (as after a Redis wipe or a long pause): drop its key directly
    const r = new Redis(redis.url);
    d.push(r, (c) => c.disconnect());
    const lost = waitForEvent(reg, 'lost', { timeoutMs: 3000 });
    const back = lost.then(() => waitForEvent<string>(reg, 'registered', { timeoutMs: 3000 }));
    await r.del(`discovery:instance:${id}`);
    await lost;
    expect(await back).toBe(id);
    await waitFor(async () => (await listed(client, 'courses')).includes(url), { timeoutMs: 2000, what: 're-registered instance listed' });
  });

  it('does not throw while discovery is down, and registers once it comes up', async () => {
    const port = await freePort();
    const offline = new DiscoveryClient({ discoveryUrl: `http://127.0.0.1:${port}`, fetchTimeoutMs: 500 });
    const url = 'http://127.0.0.1:4103/graphql';
    const started = Date.now();
    const reg = await register(offline, { service: 'users', url }, { retryMs: 50, maxRetryMs: 200 });
    expect(reg.registered).toBe(false); // resolved after the first failed attempt, without throwing
    expect(Date.now() - started).toBeLessThan(2000);
    await expect(offline.list()).rejects.toThrow();

    const registered = waitForEvent<string>(reg, 'registered', { timeoutMs: 5000 });
    const late = d.push(await startTestDiscovery(redis.url, { port, ttlSeconds: 1 }), (s) => s.stop());
    expect(late.url).toBe(`http://127.0.0.1:${port}`);
    expect(await registered).toEqual(expect.any(String));
    expect(reg.registered).toBe(true);
    expect(await listed(offline, 'users')).toContain(url);
  });

  it('keeps its lease through a discovery restart and deregisters without throwing when discovery is gone', async () => {
    const port = await freePort();
    const own = await startTestDiscovery(redis.url, { port, ttlSeconds: 2 });
    const c = new DiscoveryClient({ discoveryUrl: own.url, fetchTimeoutMs: 500 });
    const url = 'http://127.0.0.1:4104/graphql';
    const reg = await register(c, { service: 'restarts', url }, { heartbeatMs: 100 });
    await own.stop();
    // heartbeats fail while it is down, but the client keeps trying
    await waitFor(() => !reg.registered, { timeoutMs: 3000, what: 'client noticing discovery is down' });
    const again = d.push(await startTestDiscovery(redis.url, { port, ttlSeconds: 2 }), (s) => s.stop());
    await waitFor(() => reg.registered, { timeoutMs: 3000, what: 'heartbeats accepted again' });
    expect(await listed(c, 'restarts')).toEqual([url]);
    await again.stop();
    await expect(reg.deregister()).resolves.toBeUndefined();
  });
});

describe('DiscoveryClient.watch', () => {
  it('delivers the first snapshot and every change', async () => {
    const log = new SnapshotLog();
    const w = client.watch(log.push, { pollTimeoutMs: 2000 });
    d.defer(() => w.stop());
    const first = await waitForEvent<ServicesSnapshot>(log, 'snapshot');
    expect(first.version).toEqual(expect.any(Number));

    const url = 'http://127.0.0.1:4105/graphql';
    const seen = waitForEvent<ServicesSnapshot>(log, 'snapshot', { filter: (s) => urlsOf(s, 'gateway-test').includes(url), timeoutMs: 1000 });
    const reg = await register(client, { service: 'gateway-test', url });
    expect((await seen).version).toBeGreaterThan(first.version);
    const gone = waitForEvent<ServicesSnapshot>(log, 'snapshot', { filter: (s) => !urlsOf(s, 'gateway-test').includes(url), timeoutMs: 1000 });
    await reg.deregister();
    await gone;
    // versions only ever change between deliveries: no duplicate deliveries of one version
    const versions = log.all.map((s) => s.version);
    expect(new Set(versions).size).toBe(versions.length);
    await w.stop();
  });

  it('keeps the last snapshot while discovery is down and resumes when it returns', async () => {
    const port = await freePort();
    const own = await startTestDiscovery(redis.url, { port, ttlSeconds: 5 });
    const c = new DiscoveryClient({ discoveryUrl: own.url, fetchTimeoutMs: 500 });
    const url = 'http://127.0.0.1:4106/graphql';
    const reg = await register(c, { service: 'durable', url }, { heartbeatMs: 200 });
    const log = new SnapshotLog();
    const w = c.watch(log.push, { pollTimeoutMs: 1000, maxRetryMs: 200 });
    d.defer(() => w.stop());
    await waitForEvent<ServicesSnapshot>(log, 'snapshot', { filter: (s) => urlsOf(s, 'durable').includes(url) });
    const deliveredBefore = log.all.length;

    await own.stop();
    // a few failed polls later the consumer still holds the last good snapshot and got nothing empty
    await waitFor(async () => (await c.list().then(() => false, () => true)), { what: 'discovery down' });
    expect(urlsOf(w.snapshot, 'durable')).toEqual([url]);
    await waitFor(() => !w.connected, { what: 'watcher noticing discovery is down' });

    const back = d.push(await startTestDiscovery(redis.url, { port, ttlSeconds: 5 }), (s) => s.stop());
    const url2 = 'http://127.0.0.1:4107/graphql';
    const seen = waitForEvent<ServicesSnapshot>(log, 'snapshot', { filter: (s) => urlsOf(s, 'durable').includes(url2), timeoutMs: 3000 });
    await register(new DiscoveryClient({ discoveryUrl: back.url }), { service: 'durable', url: url2 });
    await seen;
    expect(w.connected).toBe(true);
    expect(log.all.slice(deliveredBefore).every((s) => urlsOf(s, 'durable').includes(url))).toBe(true);
    await w.stop();
    await reg.deregister();
  });

  it('stop() ends a pending long-poll promptly', async () => {
    const log = new SnapshotLog();
    const w = client.watch(log.push, { pollTimeoutMs: 20000 });
    await waitForEvent(log, 'snapshot');
    const started = Date.now();
    await w.stop();
    expect(Date.now() - started).toBeLessThan(1000);
  });
});

describe('installShutdown', () => {
  it('a service process deregisters on Ctrl-C even when the launcher echoes a SIGTERM right after', async () => {
    const { spawn } = await import('node:child_process');
    const path = await import('node:path');
    const root = path.resolve(__dirname, '../..');
    const url = 'http://127.0.0.1:4199/graphql';
    // `node --import tsx` (one process): the tsx CLI's own signal relay is not what is tested here
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(__dirname, 'fixtures/registering-service.ts')], {
      cwd: path.join(root, 'discovery'),
      env: { ...process.env, DISCOVERY_URL: disc.url, SERVICE: 'fixture', URL: url },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    d.defer(() => child.kill('SIGKILL'));
    const exited = new Promise<number | string>((r) => child.once('exit', (code, sig) => r(code ?? sig ?? -1)));
    await waitForEvent<Buffer>(child.stdout!, 'data', { filter: (b) => b.toString().includes('ready'), timeoutMs: 20000 });
    expect(await listed(client, 'fixture')).toEqual([url]);
    child.kill('SIGINT');
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    // gone at once (deregistered), not after the lease ran out
    expect(await listed(client, 'fixture')).toEqual([]);
  });

  it('runs every handler once, in order, even when one fails', async () => {
    const order: string[] = [];
    const logger = createLogger('test', { level: 'silent' });
    const handlers: Array<() => Promise<void>> = [
      async () => void order.push('deregister'),
      async () => {
        order.push('fails');
        throw new Error('boom');
      },
    ];
    const s = installShutdown(handlers, logger, { exit: false, signals: ['SIGUSR2'] });
    d.defer(() => s.uninstall());
    handlers.push(async () => void order.push('added later'));
    process.emit('SIGUSR2', 'SIGUSR2');
    await s.run('again'); // same run, not a second one
    expect(order).toEqual(['deregister', 'fails', 'added later']);
  });
});

// Registration is also an EventEmitter: make sure the type says so for consumers.
const _typecheck = (r: Registration) => r.on('registered', (_id: string) => undefined);
void _typecheck;
