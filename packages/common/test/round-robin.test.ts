import { createServer, type Server } from 'node:http';
import { request } from 'undici';
import { AppError } from '../src/errors';
import { closeServer, listen } from '../src/http';
import { InstancePool } from '../src/round-robin';
import { isNotReachedError } from '../src/breaker';
import { Disposables } from '../src/testing/disposables';
import { waitFor } from '../src/testing/wait';

/** A tiny HTTP server that counts hits and can be told to fail. */
async function tinyServer() {
  const s = { hits: 0, fail: false, server: undefined as unknown as Server, url: '', port: 0 };
  s.server = createServer((req, res) => {
    // client traffic only: the background half-open probe (GET /probe) is not counted, whenever it runs
    if (req.url !== '/probe') s.hits++;
    res.statusCode = s.fail ? 500 : 200;
    res.end(s.fail ? 'boom' : 'ok');
  });
  s.port = await listen(s.server, 0, '127.0.0.1');
  s.url = `http://127.0.0.1:${s.port}`;
  return s;
}

async function call(url: string): Promise<string> {
  const r = await request(url, { headersTimeout: 1000, bodyTimeout: 1000 });
  const text = await r.body.text();
  if (r.statusCode >= 500) throw Object.assign(new Error(`status ${r.statusCode}`), { status: r.statusCode });
  return text;
}

describe('InstancePool', () => {
  const d = new Disposables();
  afterAll(() => d.disposeAll());

  it('spreads calls round-robin over live instances', async () => {
    const a = await tinyServer();
    const b = await tinyServer();
    d.push(a.server, closeServer);
    d.push(b.server, closeServer);
    const pool = new InstancePool({ service: 's' });
    pool.setInstances([{ id: 'a', url: a.url }, { id: 'b', url: b.url }]);
    for (let i = 0; i < 10; i++) await pool.execute((inst) => call(inst.url));
    expect(a.hits).toBe(5);
    expect(b.hits).toBe(5);
    pool.close();
  });

  it('opens after 3 consecutive failures, skips the instance, and a half-open probe brings it back', async () => {
    const a = await tinyServer();
    const b = await tinyServer();
    d.push(a.server, closeServer);
    d.push(b.server, closeServer);
    const pool = new InstancePool({
      service: 's',
      breaker: { cooldownMs: 200 },
      probe: async (inst) => void (await call(`${inst.url}/probe`)),
    });
    pool.setInstances([{ id: 'a', url: a.url }, { id: 'b', url: b.url }]);
    a.fail = true;
    // queries: every call succeeds thanks to the retry on the other instance
    for (let i = 0; i < 6; i++) await expect(pool.execute((inst) => call(inst.url), { retryOnce: true, idempotent: true })).resolves.toBe('ok');
    expect(a.hits).toBe(3);
    expect(pool.status().find((s) => s.id === 'a')?.state).toBe('open');
    const before = a.hits;
    for (let i = 0; i < 4; i++) await pool.execute((inst) => call(inst.url));
    expect(a.hits).toBe(before); // no traffic while open (cool-down not yet over)
    a.fail = false;
    await waitFor(() => pool.status().find((s) => s.id === 'a')?.state === 'closed', { timeoutMs: 3000, what: 'probe closes breaker' });
    const hitsA = a.hits;
    for (let i = 0; i < 4; i++) await pool.execute((inst) => call(inst.url));
    expect(a.hits - hitsA).toBe(2);
    pool.close();
  });

  it('retries a mutation only when the first attempt never reached the instance', async () => {
    const a = await tinyServer();
    const b = await tinyServer();
    d.push(b.server, closeServer);
    const deadUrl = a.url;
    await closeServer(a.server);
    const pool = new InstancePool({ service: 's' });
    pool.setInstances([{ id: 'dead', url: deadUrl }, { id: 'b', url: b.url }]);
    // dead first: connection refused → retried on b even though not idempotent
    await expect(pool.execute((inst) => call(inst.url), { retryOnce: true, idempotent: false })).resolves.toBe('ok');
    // a 500 from a reached instance is not retried for a mutation
    b.fail = true;
    const pool2 = new InstancePool({ service: 's' });
    pool2.setInstances([{ id: 'b', url: b.url }, { id: 'b2', url: b.url }]);
    const hits = b.hits;
    const err = await pool2.execute((inst) => call(inst.url), { retryOnce: true, idempotent: false }).catch((e) => e);
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).code).toBe('SERVICE_UNAVAILABLE');
    expect(b.hits - hits).toBe(1);
    pool.close();
    pool2.close();
  });

  it('fails fast with SERVICE_UNAVAILABLE when no instance is live', async () => {
    const pool = new InstancePool<{ id: string; url: string }>({ service: 'empty' });
    const err = await pool.execute(async () => 'x').catch((e) => e);
    expect((err as AppError).code).toBe('SERVICE_UNAVAILABLE');
    const a = await tinyServer();
    await closeServer(a.server);
    pool.setInstances([{ id: 'a', url: a.url }]);
    for (let i = 0; i < 3; i++) await pool.execute((inst) => call(inst.url)).catch(() => undefined);
    expect(pool.status()[0].state).toBe('open');
    const started = Date.now();
    const err2 = await pool.execute((inst) => call(inst.url)).catch((e) => e);
    expect((err2 as AppError).code).toBe('SERVICE_UNAVAILABLE');
    expect(Date.now() - started).toBeLessThan(1000);
    pool.close();
  });

  it('classifies connection refused as not reached', async () => {
    const a = await tinyServer();
    await closeServer(a.server);
    const err = await call(a.url).catch((e) => e);
    expect(isNotReachedError(err)).toBe(true);
    expect(isNotReachedError(new Error('other side closed'))).toBe(false);
  });
});
