import { AppError } from '../src/errors';
import { InstancePool, type InstancePoolOptions } from '../src/round-robin';

// InstancePool's routing decisions on a controlled clock: which instance a sticky key goes to, when a
// latency outlier is ejected (counted in calls, measured in clock time the fake instances "take") and
// when it comes back. outlier.test.ts shows the same against real, slow HTTP servers.

type Inst = { id: string; url: string };
const inst = (id: string): Inst => ({ id, url: `http://${id}` });
const T0 = Date.parse('2030-01-01T00:00:00.000Z');

/** performance.now() as the pool sees it: advanced only by the fake instances' latency. */
let clock = 0;
beforeEach(() => {
  jest.useFakeTimers({ now: T0, doNotFake: ['performance', 'nextTick', 'setImmediate', 'queueMicrotask'] });
  clock = 0;
  jest.spyOn(performance, 'now').mockImplementation(() => clock);
});
afterEach(() => {
  jest.useRealTimers();
  jest.restoreAllMocks();
});

/** A pool over fake instances that answer in `latency[id]` ms (or fail when `failing` has them). */
function harness(ids: string[], opts: Partial<InstancePoolOptions<Inst>> = {}) {
  const latency: Record<string, number> = Object.fromEntries(ids.map((id) => [id, 10]));
  const failing = new Set<string>();
  const events: string[] = [];
  const pool = new InstancePool<Inst>({ service: 's', onEjection: (x, out) => events.push(`${x.id}:${out ? 'out' : 'in'}`), ...opts });
  pool.setInstances(ids.map(inst));
  const fn = async (x: Inst) => {
    clock += latency[x.id];
    if (failing.has(x.id)) throw Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
    return x.id;
  };
  const call = (key?: string) => pool.execute(fn, { key }).catch((e: unknown) => (e instanceof AppError ? `refused: ${e.message}` : Promise.reject(e)));
  const calls = async (n: number, key?: string) => {
    const out: string[] = [];
    for (let i = 0; i < n; i++) out.push(await call(key));
    return out;
  };
  const status = (id: string) => pool.status().find((s) => s.id === id)!;
  return { pool, latency, failing, events, call, calls, status };
}

describe('latency outliers', () => {
  it('are judged once they have minSamples answers, ejected at the threshold exactly, and come back when the ejection ends', async () => {
    const h = harness(['a', 'b', 'c'], { outlier: { minLatencyMs: 100, minSamples: 3, ejectMs: 1000, maxEjectMs: 4000 } });
    // threshold: max(100 ms, 3 × the others' median of 10 ms) = 100 ms, which c takes exactly
    h.latency.c = 100;
    expect(await h.calls(8)).toEqual(['a', 'b', 'c', 'a', 'b', 'c', 'a', 'b']);
    expect(h.events).toEqual([]);
    expect(await h.call()).toBe('c');
    expect(h.events).toEqual(['c:out']);
    expect(h.status('c')).toMatchObject({ latencyMs: 100, ejectedUntil: new Date(T0 + 1000).toISOString() });
    expect(await h.calls(4)).toEqual(['a', 'b', 'a', 'b']);

    await jest.advanceTimersByTimeAsync(999);
    expect(h.events).toEqual(['c:out']);
    await jest.advanceTimersByTimeAsync(1);
    expect(h.events).toEqual(['c:out', 'c:in']);
    // back with a clean slate: judged again on fresh samples
    expect(h.status('c')).toEqual(expect.objectContaining({ latencyMs: 0 }));
    expect(h.status('c').ejectedUntil).toBeUndefined();
    const again = await h.calls(9);
    expect(again.filter((id) => id === 'c')).toHaveLength(3);
    // still slow: out again, twice as long
    expect(h.events).toEqual(['c:out', 'c:in', 'c:out']);
    expect(h.status('c').ejectedUntil).toBe(new Date(T0 + 1000 + 2000).toISOString());
    h.pool.close();
  });

  it('one just under the threshold stays; a lone instance is never judged', async () => {
    const h = harness(['a', 'b'], { outlier: { minLatencyMs: 100, minSamples: 1 } });
    h.latency.b = 99;
    await h.calls(10);
    expect(h.events).toEqual([]);
    const lone = harness(['x'], { outlier: { minLatencyMs: 100, minSamples: 1 } });
    lone.latency.x = 5000;
    expect(await lone.calls(5)).toEqual(['x', 'x', 'x', 'x', 'x']);
    expect(lone.events).toEqual([]);
    h.pool.close();
    lone.pool.close();
  });

  it('never ejects more than the allowed share of the pool', async () => {
    const h = harness(['a', 'b', 'c'], { outlier: { minLatencyMs: 100, minSamples: 3 } });
    h.latency.b = 500;
    h.latency.c = 500;
    await h.calls(12);
    // at most 50 % of three: one
    expect(h.events).toEqual(['b:out']);
    h.pool.close();
  });

  it('is judged against the others still in rotation: not itself, not ejected ones, only those with enough answers', async () => {
    const h = harness(['a', 'b', 'c'], { outlier: { minLatencyMs: 100, minSamples: 3, maxEjectPercent: 100 } });
    h.latency.b = 1000;
    h.latency.c = 200;
    await h.calls(8);
    // b was judged against a alone (c had two answers): out
    expect(h.events).toEqual(['b:out']);
    // c against a alone (b is out, c is not its own yardstick, a has exactly three answers): 200 ≥ 100, out
    await h.call();
    expect(h.events).toEqual(['b:out', 'c:out']);
    h.pool.close();
  });

  it('is judged against closed instances only', async () => {
    const h = harness(['a', 'e', 'd'], { outlier: { minLatencyMs: 100, minSamples: 1, maxEjectPercent: 100 }, breaker: { threshold: 1, cooldownMs: 60_000 } });
    h.latency.e = 99;
    h.latency.d = 150;
    // d against a and e: threshold 3 × median(10, 99) = 163.5 ms, 150 stays
    expect(await h.calls(3)).toEqual(['a', 'e', 'd']);
    expect(h.events).toEqual([]);
    h.failing.add('e');
    expect(await h.calls(2)).toEqual(['a', expect.stringMatching(/^refused: /)]);
    expect(h.status('e').state).toBe('open');
    // e's breaker is open: d is judged against a alone (100 ms) and goes
    expect(await h.call()).toBe('d');
    expect(h.events).toEqual(['d:out']);
    h.pool.close();
  });

  it('with a probe: comes back only after a probe faster than the threshold, each failed or slow probe doubling the ejection', async () => {
    let probeMs = 0;
    let probeFails = false;
    const probed: string[] = [];
    const h = harness(['a', 'b'], {
      outlier: { minLatencyMs: 100, minSamples: 1, ejectMs: 1000, maxEjectMs: 8000 },
      probe: async (x) => {
        probed.push(x.id);
        clock += probeMs;
        if (probeFails) throw new Error('unhealthy');
      },
    });
    h.latency.b = 500;
    expect(await h.calls(2)).toEqual(['a', 'b']);
    expect(h.events).toEqual(['b:out']);
    expect(await h.calls(3)).toEqual(['a', 'a', 'a']);

    probeMs = 100; // the threshold exactly: still too slow
    await jest.advanceTimersByTimeAsync(1000);
    expect(probed).toEqual(['b']);
    expect(h.status('b').ejectedUntil).toBe(new Date(T0 + 1000 + 2000).toISOString());

    probeMs = 0;
    probeFails = true;
    await jest.advanceTimersByTimeAsync(2000);
    expect(probed).toEqual(['b', 'b']);
    expect(h.status('b').ejectedUntil).toBe(new Date(T0 + 3000 + 4000).toISOString());
    expect(h.events).toEqual(['b:out']);

    probeFails = false;
    probeMs = 99;
    await jest.advanceTimersByTimeAsync(4000);
    expect(h.events).toEqual(['b:out', 'b:in']);
    expect(h.status('b').ejectedUntil).toBeUndefined();
    // the count of ejections starts again: the next one lasts ejectMs
    expect(await h.calls(2)).toEqual(['b', 'a']);
    expect(h.status('b').ejectedUntil).toBe(new Date(T0 + 7000 + 1000).toISOString());
    h.pool.close();
  });

  it('an instance that left while ejected is neither probed nor brought back', async () => {
    const probed: string[] = [];
    const h = harness(['a', 'b'], {
      outlier: { minLatencyMs: 100, minSamples: 1, ejectMs: 1000 },
      probe: async (x) => void probed.push(x.id),
    });
    h.latency.b = 500;
    await h.calls(2);
    expect(h.events).toEqual(['b:out']);
    h.pool.setInstances([inst('a')]);
    await jest.advanceTimersByTimeAsync(5000);
    expect(probed).toEqual([]);
    expect(h.events).toEqual(['b:out']);
    h.pool.close();
  });

  it('an instance that leaves during its probe is not brought back', async () => {
    const gate: { release?: () => void } = {};
    const h = harness(['a', 'b'], {
      outlier: { minLatencyMs: 100, minSamples: 1, ejectMs: 1000 },
      probe: () => new Promise<void>((r) => (gate.release = r)),
    });
    h.latency.b = 500;
    await h.calls(2);
    await jest.advanceTimersByTimeAsync(1000);
    expect(gate.release).toBeDefined();
    h.pool.setInstances([inst('a')]);
    gate.release!();
    await jest.advanceTimersByTimeAsync(10_000);
    expect(h.events).toEqual(['b:out']);
    h.pool.close();
  });

  it('a slow answer from an instance that left in the meantime ejects nothing', async () => {
    const h = harness(['a', 'b'], { outlier: { minLatencyMs: 100, minSamples: 1 } });
    await h.calls(2);
    const gate: { release?: () => void } = {};
    const inFlight = h.pool.execute(async (x) => {
      await new Promise<void>((r) => (gate.release = r));
      clock += 5000;
      return x.id;
    });
    while (!gate.release) await new Promise((r) => setImmediate(r));
    h.latency.c = 10;
    h.pool.setInstances([inst('b'), inst('c')]);
    gate.release();
    expect(await inFlight).toBe('a');
    await h.calls(4);
    expect(h.events).toEqual([]);
    h.pool.close();
  });

  it('ejected instances still serve when nothing else is closed (slow beats unavailable)', async () => {
    const h = harness(['a', 'b'], { outlier: { minLatencyMs: 100, minSamples: 1 }, breaker: { threshold: 1, cooldownMs: 60_000 } });
    h.latency.b = 500;
    await h.calls(2);
    expect(h.events).toEqual(['b:out']);
    h.failing.add('a');
    expect(await h.call()).toMatch(/^refused: /);
    expect(h.status('a').state).toBe('open');
    expect(await h.calls(2)).toEqual(['b', 'b']);
    // and keyed calls too
    expect(await h.calls(2, 'some-key')).toEqual(['b', 'b']);
    h.pool.close();
  });
});

describe('sticky keys', () => {
  it('send every call with one key to one instance, and spread different keys', async () => {
    const h = harness(['a', 'b', 'c']);
    const firstOf: Record<string, string> = {};
    for (let k = 0; k < 30; k++) {
      const got = await h.calls(3, `key-${k}`);
      expect(new Set(got).size).toBe(1);
      firstOf[`key-${k}`] = got[0];
    }
    expect(new Set(Object.values(firstOf)).size).toBe(3);
    // the instance order does not matter, only which instances there are
    h.pool.setInstances([inst('c'), inst('a'), inst('b')]);
    for (const [key, id] of Object.entries(firstOf)) expect(await h.call(key)).toBe(id);
    expect(h.pool.status().reduce((n, s) => n + s.requests, 0)).toBe(120);
    h.pool.close();
  });

  it('move a key off an open or ejected instance, and retry it on another instance', async () => {
    const h = harness(['a', 'b', 'c'], { breaker: { threshold: 1, cooldownMs: 60_000 } });
    const home = await h.call('k');
    h.failing.add(home);
    expect(await h.call('k')).toMatch(/^refused: /);
    const next = await h.call('k');
    expect(next).not.toBe(home);
    expect(await h.calls(3, 'k')).toEqual([next, next, next]);

    // a keyed query that fails on its instance is retried on another one
    const g = harness(['a', 'b', 'c']);
    const tried: string[] = [];
    const answer = await g.pool.execute(
      async (x) => {
        tried.push(x.id);
        if (tried.length === 1) throw Object.assign(new Error('reset'), { code: 'ECONNRESET' });
        return x.id;
      },
      { key: 'k', retryOnce: true, idempotent: true },
    );
    expect(tried).toHaveLength(2);
    expect(tried[1]).not.toBe(tried[0]);
    expect(answer).toBe(tried[1]);

    // ejected: keys go elsewhere while another instance is live
    const e = harness(['a', 'b', 'c'], { outlier: { minLatencyMs: 100, minSamples: 1 } });
    e.latency.b = 500;
    await e.calls(3);
    expect(e.events).toEqual(['b:out']);
    for (let k = 0; k < 20; k++) expect(await e.call(`key-${k}`)).not.toBe('b');
    h.pool.close();
    g.pool.close();
    e.pool.close();
  });

  it('among ejected instances only, a key still sticks to one of them', async () => {
    const h = harness(['a', 'b', 'c', 'd'], { outlier: { minLatencyMs: 100, minSamples: 1, maxEjectPercent: 100 }, breaker: { threshold: 1, cooldownMs: 60_000 } });
    h.latency.b = 500;
    h.latency.c = 600;
    h.latency.d = 700;
    await h.calls(4);
    expect(h.events).toEqual(['b:out', 'c:out', 'd:out']);
    h.failing.add('a');
    expect(await h.call()).toMatch(/^refused: /);
    for (let k = 0; k < 5; k++) {
      const got = await h.calls(3, `key-${k}`);
      expect(got).toEqual([got[0], got[0], got[0]]);
    }
    h.pool.close();
  });
});

describe('status and retries', () => {
  it('reports when a breaker opened and never retries on an instance that left during the call', async () => {
    const h = harness(['a'], { breaker: { threshold: 1, cooldownMs: 60_000 } });
    expect('openedAt' in h.status('a')).toBe(false);
    jest.setSystemTime(T0 + 5000);
    h.failing.add('a');
    await h.call();
    expect(h.status('a')).toMatchObject({ state: 'open', consecutiveFailures: 1, openedAt: new Date(T0 + 5000).toISOString() });
    expect(h.pool.available).toBe(0);

    const one = harness(['x']);
    let attempts = 0;
    const refused = await one.pool
      .execute(
        async () => {
          attempts++;
          one.pool.setInstances([]);
          throw Object.assign(new Error('reset'), { code: 'ECONNRESET' });
        },
        { retryOnce: true, idempotent: true },
      )
      .catch((e: AppError) => e.message);
    expect(attempts).toBe(1);
    expect(refused).toBe('Service "s" is unavailable: ECONNRESET.');
    h.pool.close();
    one.pool.close();
  });
});
