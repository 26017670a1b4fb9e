import { waitFor } from '@dream/common/testing';
import { useStack, breakerOf, getJson, gql, servedBy, waitForPool, type Replica } from './helpers';
import type { Gateway } from '../src/server';

jest.setTimeout(90000);

const QUERY = '{ categories }';

/** Runs `workers` clients sending queries back to back until `stop()`; collects every outcome. */
function traffic(gw: Gateway, workers = 4) {
  const results: Array<{ status: number; errors?: unknown }> = [];
  let running = true;
  const loops = Array.from({ length: workers }, async () => {
    while (running) {
      const r = await gql(gw, QUERY).catch((e) => ({ status: 0, body: { errors: [String(e)] } }));
      results.push({ status: r.status, errors: r.body.errors });
    }
  });
  return {
    results,
    stop: async () => {
      running = false;
      await Promise.all(loops);
      return results;
    },
  };
}

const attemptsOn = (gw: Gateway, r: Replica) => gw.pools.get('courses').status().find((s) => s.url === r.url)?.requests ?? 0;

describe('gateway resilience with real discovery and replicas', () => {
  const stack = useStack();
  let gw: Gateway;
  let a: Replica;
  let b: Replica;

  beforeAll(async () => {
    await stack.addUsers();
    a = await stack.addCourses();
    b = await stack.addCourses();
    gw = await stack.gateway({ BREAKER_COOLDOWN_MS: '500' });
    await gw.ready();
    await waitFor(() => gw.supergraph.subgraphs.length === 2, { what: 'both subgraphs composed' });
    await waitForPool(gw, 'courses', 2);
  });

  it('spreads requests evenly over two replicas (within one request)', async () => {
    const [a0, b0] = [await servedBy(a), await servedBy(b)];
    const n = 40;
    for (let i = 0; i < n; i++) {
      const r = await gql(gw, QUERY);
      expect(r.status).toBe(200);
    }
    const [da, db] = [(await servedBy(a)) - a0, (await servedBy(b)) - b0];
    expect(da + db).toBe(n);
    expect(Math.abs(da - db)).toBeLessThanOrEqual(1);
  });

  it('a replica stopped mid-traffic fails no client query; its breaker opens after 3 failures and it gets no traffic', async () => {
    const load = traffic(gw);
    await waitFor(() => load.results.length >= 20, { what: 'traffic flowing' });
    await stack.crash(b);
    await waitFor(() => breakerOf(gw, 'courses', b.url) === 'open', { timeoutMs: 5000, what: 'breaker of the stopped replica to open' });
    await waitFor(() => load.results.length >= 100, { timeoutMs: 10000, what: 'more traffic' });
    const results = await load.stop();
    expect(results.filter((r) => r.status !== 200 || r.errors)).toEqual([]);

    const status = gw.pools.get('courses').status().find((s) => s.url === b.url)!;
    expect(status.consecutiveFailures).toBeGreaterThanOrEqual(3);
    // while open (its /health probes keep failing) no client request is routed to it
    const before = attemptsOn(gw, b);
    const a0 = await servedBy(a);
    for (let i = 0; i < 10; i++) expect((await gql(gw, QUERY)).status).toBe(200);
    expect(attemptsOn(gw, b)).toBe(before);
    expect((await servedBy(a)) - a0).toBe(10);
    const ready = await getJson(`${gw.url}/ready`);
    expect(ready.body.subgraphs.courses.instances).toEqual(
      expect.arrayContaining([expect.objectContaining({ url: b.url, state: 'open' }), expect.objectContaining({ url: a.url, state: 'closed' })]),
    );
    const metrics = String((await getJson(`${gw.url}/metrics`)).body);
    expect(metrics).toContain(`url="${b.url}"} 1`);
  });

  it('when the replica comes back the half-open probe returns it to the pool', async () => {
    await stack.revive(b);
    await waitFor(() => breakerOf(gw, 'courses', b.url) === 'closed', { timeoutMs: 5000, what: 'probe to close the breaker' });
    const b0 = await servedBy(b);
    for (let i = 0; i < 10; i++) expect((await gql(gw, QUERY)).status).toBe(200);
    const got = (await servedBy(b)) - b0;
    expect(got).toBeGreaterThanOrEqual(4);
    expect(got).toBeLessThanOrEqual(6);
  });

  it('a third replica that registers gets traffic within 2 s without a gateway restart', async () => {
    const started = Date.now();
    const c = await stack.addCourses();
    await waitFor(
      async () => {
        await gql(gw, QUERY);
        return attemptsOn(gw, c) > 0;
      },
      { timeoutMs: 2000, intervalMs: 20, what: 'the new replica to receive a request' },
    );
    expect(Date.now() - started).toBeLessThan(2000 + 1000 /* replica start-up before it registered */);
    expect(await servedBy(c)).toBeGreaterThanOrEqual(1);
  });

  it('keeps answering while discovery is down, and follows it again when it returns', async () => {
    const version = gw.supergraph.snapshot?.version;
    await stack.discovery.stop();
    for (let i = 0; i < 10; i++) {
      const r = await gql(gw, QUERY);
      expect(r.status).toBe(200);
      expect(r.body.errors).toBeUndefined();
    }
    expect(gw.pools.get('courses').size).toBe(3);
    expect((await getJson(`${gw.url}/health`)).status).toBe(200);
    await stack.startDiscovery();
    const d = await stack.addCourses();
    await waitFor(() => gw.pools.get('courses').status().some((s) => s.url === d.url), { timeoutMs: 5000, what: 'watch to resume' });
    expect(gw.supergraph.snapshot!.version).not.toBe(version);
  });

  it('answers a prompt 503 SERVICE_UNAVAILABLE when every replica is down', async () => {
    for (const r of stack.courses) if (!r.stopped) await stack.crash(r);
    // 4 replicas × 3 failures open every breaker; each query tries two instances
    for (let i = 0; i < 10; i++) {
      const started = Date.now();
      const r = await gql(gw, QUERY);
      expect(r.status).toBe(503);
      expect(r.body.errors?.[0].extensions?.code).toBe('SERVICE_UNAVAILABLE');
      expect(r.body.errors?.[0].extensions).not.toHaveProperty('http');
      expect(Date.now() - started).toBeLessThan(2000); // never waits for the upstream timeout
    }
    // the users subgraph still answers: partial outages stay partial
    const me = await gql(gw, '{ me { id } }');
    expect(me.status).toBe(200);
    expect((await getJson(`${gw.url}/health`)).status).toBe(200);
    expect((await getJson(`${gw.url}/ready`)).status).toBe(503);
    const metrics = String((await getJson(`${gw.url}/metrics`)).body);
    expect(metrics).toMatch(/gateway_upstream_errors_total\{subgraph="courses"\} [1-9]/);
  });
});
