import { waitFor } from '@dream/common/testing';
import type { Gateway } from '../src/server';
import { useStack, breakerOf, gql, waitForPool, type Replica } from './helpers';

jest.setTimeout(90_000);

/**
 * A replica that answers, but with failures (its database is gone: 5xx / INTERNAL_SERVER_ERROR with
 * null data), is as broken as one that does not answer: its breaker opens and queries go elsewhere.
 */
describe('breaker semantics for answers that report a failure', () => {
  const stack = useStack({ discoveryTtlSeconds: 2 });
  let gw: Gateway;
  let sick: Replica;
  let well: Replica;

  beforeAll(async () => {
    await stack.addUsers();
    sick = await stack.addCourses();
    well = await stack.addCourses();
    gw = await stack.gateway({ BREAKER_COOLDOWN_MS: '60000' });
    await gw.ready();
    await waitFor(() => gw.supergraph.subgraphs.length === 2, { what: 'both subgraphs composed' });
    await waitForPool(gw, 'courses', 2);
  });

  it('a replica answering failures counts against its breaker; every query is answered by the other replica', async () => {
    const direct = () => sick.gql('{ categories }');
    await sick.service.db.close();
    // the replica itself answers, but with a failure and no data
    const own = await direct();
    expect(own.body.data ?? null).toBeNull();
    expect(own.status >= 500 || ['SERVICE_UNAVAILABLE', 'INTERNAL_SERVER_ERROR'].includes(own.body.errors?.[0]?.extensions?.code ?? '')).toBe(true);

    const results = [];
    for (let i = 0; i < 12; i++) results.push(await gql(gw, '{ categories }'));
    expect(results.map((r) => r.status)).toEqual(results.map(() => 200));
    expect(results.every((r) => r.body.errors === undefined)).toBe(true);
    expect(breakerOf(gw, 'courses', sick.url)).toBe('open');
    expect(breakerOf(gw, 'courses', well.url)).toBe('closed');
  });

  it('a replica whose own health check fails stops heartbeating (discovery drops it) and comes back when healthy', async () => {
    let healthy = true;
    const extra = await stack.client.register(
      { service: 'courses', url: 'http://127.0.0.1:9/graphql' },
      { heartbeatMs: 200, retryMs: 100, maxRetryMs: 200, healthy: async () => healthy },
    );
    const listed = async () => ((await stack.client.list()).services.courses ?? []).some((i) => i.url === 'http://127.0.0.1:9/graphql');
    try {
      await waitFor(listed, { what: 'the instance to be registered' });
      healthy = false;
      await waitFor(async () => !(await listed()), { timeoutMs: 10_000, what: 'the lease of the unhealthy instance to expire' });
      healthy = true;
      await waitFor(listed, { timeoutMs: 10_000, what: 'the instance to register again once healthy' });
    } finally {
      await extra.deregister();
    }
  });
});
