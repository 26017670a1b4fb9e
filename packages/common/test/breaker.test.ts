import { BrokenCircuitError, IsolatedCircuitError } from 'cockatiel';
import { BREAKER_STATE_VALUE, InstanceBreaker, isBreakerRejection, isNotReachedError } from '../src/breaker';
import { waitFor } from '../src/testing/wait';

const fail = (b: InstanceBreaker) => b.execute(() => Promise.reject(new Error('boom'))).catch((e: Error) => e);
const ok = (b: InstanceBreaker) => b.execute(() => Promise.resolve('ok'));

describe('InstanceBreaker', () => {
  it('defaults: 3 consecutive failures, 5000 ms cool-down', () => {
    const b = new InstanceBreaker();
    expect({ threshold: b.threshold, cooldownMs: b.cooldownMs, state: b.state, failures: b.failures, openedAt: b.lastOpenedAt, probeDue: b.probeDue }).toEqual({
      threshold: 3,
      cooldownMs: 5000,
      state: 'closed',
      failures: 0,
      openedAt: 0,
      probeDue: false,
    });
  });

  it('opens on the threshold-th consecutive failure, not before; a success in between starts the count again', async () => {
    const b = new InstanceBreaker({ threshold: 3, cooldownMs: 60_000 });
    await fail(b);
    await fail(b);
    expect(b.failures).toBe(2);
    await ok(b);
    expect(b.failures).toBe(0);
    await fail(b);
    await fail(b);
    expect(b.state).toBe('closed');
    const before = Date.now();
    await fail(b);
    expect(b.state).toBe('open');
    expect(b.failures).toBe(3);
    expect(b.lastOpenedAt).toBeGreaterThanOrEqual(before);
    expect(b.lastOpenedAt).toBeLessThanOrEqual(Date.now());
    // open: calls are refused without running, as a breaker rejection
    let ran = false;
    const refused = await b.execute(async () => (ran = true)).catch((e: unknown) => e);
    expect(ran).toBe(false);
    expect(isBreakerRejection(refused)).toBe(true);
    expect(b.probeDue).toBe(false);
  });

  it('after the cool-down one probe is due; its success closes the breaker, its failure opens it again', async () => {
    const b = new InstanceBreaker({ threshold: 1, cooldownMs: 40 });
    const states: string[] = [];
    b.onStateChange((s) => states.push(s));
    let breaks = 0;
    b.onBreak(() => breaks++);
    await fail(b);
    expect(b.state).toBe('open');
    await waitFor(() => b.probeDue, { what: 'the probe to be due', intervalMs: 5 });
    expect(Date.now() - b.lastOpenedAt).toBeGreaterThanOrEqual(40);
    await fail(b); // the half-open probe fails
    expect(b.state).toBe('open');
    expect(b.probeDue).toBe(false);
    await waitFor(() => b.probeDue, { what: 'the next probe to be due', intervalMs: 5 });
    expect(await ok(b)).toBe('ok');
    expect(b.state).toBe('closed');
    expect(b.probeDue).toBe(false);
    expect(states).toEqual(['open', 'half-open', 'open', 'half-open', 'closed']);
    expect(breaks).toBe(2);
  });

  it('reports state values for the gauge', () => {
    expect(BREAKER_STATE_VALUE).toEqual({ closed: 0, open: 1, 'half-open': 2, isolated: 3 });
  });
});

describe('isBreakerRejection / isNotReachedError', () => {
  it('knows the breaker refusals', () => {
    expect(isBreakerRejection(new BrokenCircuitError())).toBe(true);
    expect(isBreakerRejection(new IsolatedCircuitError())).toBe(true);
    expect(isBreakerRejection(new Error('x'))).toBe(false);
    expect(isNotReachedError(new BrokenCircuitError())).toBe(true);
  });

  it.each(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_CONNECT'])(
    '%s means the request never left',
    (code) => {
      expect(isNotReachedError(Object.assign(new Error('x'), { code }))).toBe(true);
    },
  );

  it('anything that may have reached the instance is not "not reached"', () => {
    for (const code of ['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET', 'UND_ERR_HEADERS_TIMEOUT', 'ETIMEDOUT']) {
      expect(isNotReachedError(Object.assign(new Error('x'), { code }))).toBe(false);
    }
    expect(isNotReachedError(undefined)).toBe(false);
    expect(isNotReachedError(new Error('no code'))).toBe(false);
    expect(isNotReachedError({ code: 42 })).toBe(false);
    expect(isNotReachedError({ notReached: 'yes' })).toBe(false);
  });

  it('follows cause chains up to 5 deep, an explicit notReached flag, and AggregateErrors where every attempt was refused', () => {
    const refused = Object.assign(new Error('r'), { code: 'ECONNREFUSED' });
    const wrap = (e: unknown, n: number): unknown => (n === 0 ? e : wrap(new Error('wrap', { cause: e }), n - 1));
    expect(isNotReachedError(wrap(refused, 4))).toBe(true);
    expect(isNotReachedError(wrap(refused, 5))).toBe(false);
    expect(isNotReachedError(wrap({ notReached: true }, 2))).toBe(true);
    expect(isNotReachedError(new AggregateError([refused, refused]))).toBe(true);
    expect(isNotReachedError(new AggregateError([refused, Object.assign(new Error('x'), { code: 'ECONNRESET' })]))).toBe(false);
    expect(isNotReachedError(new AggregateError([]))).toBe(false);
    expect(isNotReachedError(wrap(new AggregateError([refused]), 1))).toBe(true);
  });
});
