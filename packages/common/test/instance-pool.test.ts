import { BrokenCircuitError } from 'cockatiel';
import { AppError } from '../src/errors';
import { createLogger } from '../src/logger';
import { InstancePool } from '../src/round-robin';
import { waitFor } from '../src/testing/wait';

type Inst = { id: string; url: string };
const inst = (id: string, url = `http://${id}`): Inst => ({ id, url });
const refusedErr = () => Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
const resetErr = () => Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });

function capturedLogger() {
  const lines: Array<Record<string, unknown>> = [];
  const logger = createLogger('test', { level: 'debug', destination: { write: (s: string) => lines.push(JSON.parse(s)) } as never });
  return { logger, lines };
}

async function refusal(p: Promise<unknown>): Promise<{ code: string; message: string; cause?: unknown }> {
  try {
    await p;
  } catch (e) {
    if (!(e instanceof AppError)) throw e;
    return { code: e.code, message: e.message, cause: (e as { cause?: unknown }).cause };
  }
  throw new Error('expected a refusal');
}

/** Opens `id`'s breaker (threshold 1) by one failing call routed to it. */
async function open(pool: InstancePool<Inst>, id: string): Promise<void> {
  for (let i = 0; i < pool.size * 2 && pool.status().find((s) => s.id === id)?.state !== 'open'; i++) {
    await pool.execute((x) => (x.id === id ? Promise.reject(new Error('down')) : Promise.resolve('ok'))).catch(() => undefined);
  }
  expect(pool.status().find((s) => s.id === id)?.state).toBe('open');
}

describe('InstancePool (unit)', () => {
  it('round-robin order, per-instance request counts and the instance list', async () => {
    const pool = new InstancePool<Inst>({ service: 's' });
    pool.setInstances([inst('a'), inst('b'), inst('c')]);
    expect(pool.size).toBe(3);
    expect(pool.instances.map((i) => i.id)).toEqual(['a', 'b', 'c']);
    expect(pool.available).toBe(3);
    const order: string[] = [];
    for (let i = 0; i < 7; i++) order.push(await pool.execute(async (x) => x.id));
    expect(order).toEqual(['a', 'b', 'c', 'a', 'b', 'c', 'a']);
    expect(pool.status().map((s) => [s.id, s.requests, s.state, s.consecutiveFailures, 'openedAt' in s])).toEqual([
      ['a', 3, 'closed', 0, false],
      ['b', 2, 'closed', 0, false],
      ['c', 2, 'closed', 0, false],
    ]);
    pool.close();
  });

  it('setInstances keeps the breaker of an instance that stays (same id and url) and starts fresh when its url changed', async () => {
    const pool = new InstancePool<Inst>({ service: 's', breaker: { threshold: 1, cooldownMs: 60_000 } });
    pool.setInstances([inst('a'), inst('b')]);
    await open(pool, 'a');
    const openedAt = pool.status().find((s) => s.id === 'a')!.openedAt;
    expect(openedAt).toEqual(expect.any(String));
    pool.setInstances([inst('b'), { id: 'a', url: 'http://a' }, inst('c')]);
    expect(pool.status().map((s) => [s.id, s.state])).toEqual([
      ['b', 'closed'],
      ['a', 'open'],
      ['c', 'closed'],
    ]);
    expect(pool.status().find((s) => s.id === 'a')!.openedAt).toBe(openedAt);
    expect(pool.available).toBe(2);
    // same id, new address: a new instance with a closed breaker
    pool.setInstances([{ id: 'a', url: 'http://a-moved' }]);
    expect(pool.status()).toEqual([expect.objectContaining({ id: 'a', url: 'http://a-moved', state: 'closed', consecutiveFailures: 0, requests: 0 })]);
    expect(pool.status()[0]).not.toHaveProperty('openedAt');
    pool.setInstances([]);
    expect(pool.size).toBe(0);
    pool.close();
  });

  it('no instance: SERVICE_UNAVAILABLE at once, naming why', async () => {
    const pool = new InstancePool<Inst>({ service: 'courses', breaker: { threshold: 1, cooldownMs: 60_000 } });
    let ran = false;
    expect(await refusal(pool.execute(async () => (ran = true)))).toEqual({ code: 'SERVICE_UNAVAILABLE', message: 'Service "courses" is unavailable: no registered instance.' });
    pool.setInstances([inst('a')]);
    await open(pool, 'a');
    expect(await refusal(pool.execute(async () => (ran = true)))).toEqual({
      code: 'SERVICE_UNAVAILABLE',
      message: 'Service "courses" is unavailable: every instance is failing (circuit open).',
    });
    expect(ran).toBe(false);
    pool.close();
  });

  it('turns failures into SERVICE_UNAVAILABLE naming the cause; AppErrors pass unchanged', async () => {
    const pool = new InstancePool<Inst>({ service: 'users', breaker: { threshold: 100 } });
    pool.setInstances([inst('a')]);
    const reset = resetErr();
    const r = await refusal(pool.execute(() => Promise.reject(reset)));
    expect(r).toEqual({ code: 'SERVICE_UNAVAILABLE', message: 'Service "users" is unavailable: ECONNRESET.', cause: reset });
    expect((await refusal(pool.execute(() => Promise.reject(new Error('plain words'))))).message).toBe('Service "users" is unavailable: plain words.');
    expect((await refusal(pool.execute(() => Promise.reject({ code: 7 })))).message).toBe('Service "users" is unavailable: request failed.');
    expect((await refusal(pool.execute(() => Promise.reject(new BrokenCircuitError())))).message).toBe(
      'Service "users" is unavailable: every instance is failing (circuit open).',
    );
    const own = new AppError('NOT_FOUND', 'Course x not found.');
    expect(await refusal(pool.execute(() => Promise.reject(own)))).toEqual({ code: 'NOT_FOUND', message: 'Course x not found.', cause: undefined });
    pool.close();
  });

  it('retryOnce: a query is retried on the next instance; a mutation only when it never left; without retryOnce never', async () => {
    const { logger, lines } = capturedLogger();
    const pool = new InstancePool<Inst>({ service: 's', logger });
    pool.setInstances([inst('a'), inst('b')]);
    const firstFails = (err: () => Error) => {
      const seen: string[] = [];
      return { seen, fn: async (x: Inst) => (seen.push(x.id), seen.length === 1 ? Promise.reject(err()) : x.id) };
    };
    let c = firstFails(resetErr);
    expect(await pool.execute(c.fn, { retryOnce: true, idempotent: true })).toBe('b');
    expect(c.seen).toEqual(['a', 'b']);
    expect(lines).toEqual([expect.objectContaining({ level: 20, msg: 'retrying on another instance', service: 's', from: 'a', to: 'b' })]);
    c = firstFails(resetErr);
    expect((await refusal(pool.execute(c.fn, { retryOnce: true, idempotent: false }))).message).toBe('Service "s" is unavailable: ECONNRESET.');
    expect(c.seen).toHaveLength(1);
    c = firstFails(refusedErr);
    expect(await pool.execute(c.fn, { retryOnce: true })).toEqual(expect.any(String));
    expect(c.seen).toHaveLength(2);
    c = firstFails(refusedErr);
    expect((await refusal(pool.execute(c.fn, { idempotent: true }))).message).toBe('Service "s" is unavailable: ECONNREFUSED.');
    expect(c.seen).toHaveLength(1);
    // both attempts fail: the second failure is the one reported
    expect((await refusal(pool.execute(() => Promise.reject(resetErr()), { retryOnce: true, idempotent: true }))).message).toBe('Service "s" is unavailable: ECONNRESET.');
    pool.close();
  });

  it('with one instance the retry goes to the same one while its breaker is still closed, and not once it opened', async () => {
    const pool = new InstancePool<Inst>({ service: 's', breaker: { threshold: 2, cooldownMs: 60_000 } });
    pool.setInstances([inst('a')]);
    let calls = 0;
    expect(await pool.execute(async () => (++calls === 1 ? Promise.reject(resetErr()) : 'second'), { retryOnce: true, idempotent: true })).toBe('second');
    expect(pool.status()[0].requests).toBe(2);
    const one = new InstancePool<Inst>({ service: 's', breaker: { threshold: 1, cooldownMs: 60_000 } });
    one.setInstances([inst('a')]);
    calls = 0;
    await refusal(one.execute(async () => (++calls, Promise.reject(resetErr())), { retryOnce: true, idempotent: true }));
    expect(calls).toBe(1);
    expect(one.status()[0].requests).toBe(1);
    pool.close();
    one.close();
  });

  it('without a probe, an open instance past its cool-down gets live traffic as the half-open probe only when nothing else is closed', async () => {
    const pool = new InstancePool<Inst>({ service: 's', breaker: { threshold: 1, cooldownMs: 30 } });
    pool.setInstances([inst('a'), inst('b')]);
    await open(pool, 'a');
    await waitFor(() => pool.status().find((s) => s.id === 'a') && Date.now() - Date.parse(pool.status().find((s) => s.id === 'a')!.openedAt!) > 40, {
      what: 'cool-down over',
      intervalMs: 5,
    });
    // b is closed: a gets nothing even though its probe is due
    for (let i = 0; i < 3; i++) expect(await pool.execute(async (x) => x.id)).toBe('b');
    await open(pool, 'b');
    // both open, a's cool-down over: a serves as the probe and closes
    expect(await pool.execute(async (x) => x.id)).toBe('a');
    expect(pool.status().find((s) => s.id === 'a')!.state).toBe('closed');
    pool.close();
  });

  it('with a probe: state changes are reported and logged, the probe runs after the cool-down, and stops when the pool closes or the instance leaves', async () => {
    const { logger, lines } = capturedLogger();
    const changes: string[] = [];
    const probed: string[] = [];
    let healthy = false;
    const pool = new InstancePool<Inst>({
      service: 's',
      logger,
      breaker: { threshold: 1, cooldownMs: 30 },
      probe: async (x) => {
        probed.push(x.id);
        if (!healthy) throw new Error('still down');
      },
      onStateChange: (x, s) => changes.push(`${x.id}:${s}`),
    });
    pool.setInstances([inst('a'), inst('b')]);
    await open(pool, 'a');
    await waitFor(() => probed.length >= 2, { what: 'two failed probes', intervalMs: 5 });
    // with a probe, client traffic never goes to the open instance, even past its cool-down
    for (let i = 0; i < 3; i++) expect(await pool.execute(async (x) => x.id)).toBe('b');
    healthy = true;
    await waitFor(() => pool.status().find((s) => s.id === 'a')!.state === 'closed', { what: 'the probe to close a', intervalMs: 5 });
    expect(changes.slice(0, 3)).toEqual(['a:open', 'a:half-open', 'a:open']);
    expect(changes[changes.length - 1]).toBe('a:closed');
    expect(lines.filter((l) => l.msg === 'breaker open')[0]).toEqual(expect.objectContaining({ level: 40, service: 's', instance: 'a', url: 'http://a', state: 'open' }));
    expect(lines.filter((l) => l.msg === 'breaker closed')[0]).toEqual(expect.objectContaining({ level: 30, instance: 'a', state: 'closed' }));
    // an instance that left is never probed again
    healthy = false;
    await open(pool, 'a');
    const count = probed.length;
    pool.setInstances([inst('b')]);
    await new Promise((r) => setTimeout(r, 100));
    expect(probed.length).toBe(count);
    // nor after close
    pool.setInstances([inst('b'), inst('c')]);
    await open(pool, 'c');
    pool.close();
    const after = probed.length;
    await new Promise((r) => setTimeout(r, 100));
    expect(probed.length).toBe(after);
    expect(pool.size).toBe(0);
  });
});
