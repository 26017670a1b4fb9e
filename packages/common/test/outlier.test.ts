import { createServer, type Server } from 'node:http';
import { request } from 'undici';
import { InstancePool, closeServer, listen, maxEjected, outlierThreshold, resolveOutlierOptions } from '../src';
import { Disposables, waitFor } from '../src/testing';

/** A real HTTP server whose answers can be delayed (a slow replica). */
async function server() {
  const s = { hits: 0, delayMs: 0, server: undefined as unknown as Server, url: '' };
  s.server = createServer((_req, res) => {
    s.hits++;
    setTimeout(() => res.end('ok'), s.delayMs);
  });
  s.url = `http://127.0.0.1:${await listen(s.server, 0, '127.0.0.1')}`;
  return s;
}

const call = async (url: string) => (await request(url, { headersTimeout: 5000 })).body.text();

describe('latency outlier detection', () => {
  const d = new Disposables();
  afterAll(() => d.disposeAll());

  it('thresholds: relative to the median of the others, never below the absolute floor; at least one instance stays', () => {
    const o = resolveOutlierOptions({ latencyFactor: 3, minLatencyMs: 100 });
    expect(outlierThreshold([10, 20, 1000], o)).toBe(100);
    expect(outlierThreshold([200, 300], o)).toBe(750);
    expect(outlierThreshold([], o)).toBeUndefined();
    expect(maxEjected(1, o)).toBe(0);
    expect(maxEjected(2, o)).toBe(1);
    expect(maxEjected(5, o)).toBe(2);
  });

  it('ejects a slow instance, keeps it out while its probe is slow, and takes it back once fast', async () => {
    const fast = await server();
    const slow = await server();
    d.push(fast.server, closeServer);
    d.push(slow.server, closeServer);
    const pool = new InstancePool({
      service: 's',
      outlier: { minLatencyMs: 100, ejectMs: 200, maxEjectMs: 400 },
      probe: async (inst) => void (await call(inst.url)),
    });
    d.defer(() => pool.close());
    pool.setInstances([{ id: 'fast', url: fast.url }, { id: 'slow', url: slow.url }]);
    for (let i = 0; i < 10; i++) await pool.execute((inst) => call(inst.url));
    slow.delayMs = 300;
    let calls = 0;
    await waitFor(
      async () => {
        calls++;
        await pool.execute((inst) => call(inst.url));
        return !!pool.status().find((s) => s.id === 'slow')?.ejectedUntil;
      },
      { timeoutMs: 20_000, intervalMs: 0, what: 'slow instance ejected' },
    );
    // a handful of slow answers is enough (the moving average needs a few, not one)
    expect(calls).toBeLessThan(20);
    // ejected: ordinary traffic all goes to the fast one, through several ejection periods (probe still slow)
    const before = slow.hits;
    const started = Date.now();
    while (Date.now() - started < 1000) await pool.execute((inst) => call(inst.url));
    // only health probes (one per ejection period, ~3 in a second) reached the slow one
    expect(slow.hits - before).toBeLessThanOrEqual(4);
    expect(pool.status().find((s) => s.id === 'slow')?.ejectedUntil).toBeDefined();
    // fast again: the next probe takes it back and it serves ordinary traffic
    slow.delayMs = 0;
    await waitFor(() => !pool.status().find((s) => s.id === 'slow')?.ejectedUntil, { timeoutMs: 5000, what: 'slow instance back' });
    const back = slow.hits;
    for (let i = 0; i < 10; i++) await pool.execute((inst) => call(inst.url));
    expect(slow.hits - back).toBe(5);
  });

  it('never ejects the last instance, nor on uniform slowness', async () => {
    const a = await server();
    const b = await server();
    d.push(a.server, closeServer);
    d.push(b.server, closeServer);
    a.delayMs = 250;
    b.delayMs = 250;
    const pool = new InstancePool({ service: 's', outlier: { minLatencyMs: 100 } });
    d.defer(() => pool.close());
    pool.setInstances([{ id: 'a', url: a.url }, { id: 'b', url: b.url }]);
    await Promise.all(Array.from({ length: 4 }, async () => {
      for (let i = 0; i < 4; i++) await pool.execute((inst) => call(inst.url));
    }));
    expect(pool.status().every((s) => !s.ejectedUntil)).toBe(true);
    const lone = new InstancePool({ service: 'lone', outlier: { minLatencyMs: 100 } });
    d.defer(() => lone.close());
    lone.setInstances([{ id: 'a', url: a.url }]);
    for (let i = 0; i < 8; i++) await lone.execute((inst) => call(inst.url));
    expect(lone.status()[0].ejectedUntil).toBeUndefined();
  });
});
