import { createServer, type Server } from 'node:http';
import type { GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import { InstancePool, createLogger, type ServiceInstance } from '@dream/common';
import { Disposables, waitFor } from '@dream/common/testing';
import type { GatewayContext } from '../src/context';
import { PooledDataSource, WriteFence } from '../src/data-source';
import { UpstreamClient } from '../src/upstream';

/**
 * An upstream where queries wait until `release()` and mutations answer at once: a read can be in
 * flight while a write starts, finishes and is acknowledged.
 */
async function startUpstream(d: Disposables) {
  const queries: string[] = [];
  let held: Array<() => void> = [];
  let version = 0;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString()) as { query: string };
      const seenAt = version;
      const answer = (data: unknown) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ data }));
      };
      if (/^\s*mutation/.test(body.query)) {
        version++;
        answer({ write: version });
        return;
      }
      queries.push(body.query);
      held.push(() => answer({ version: seenAt }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  d.defer(() => new Promise<void>((r) => server.close(() => r())));
  d.defer(() => server.closeAllConnections());
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}/graphql`,
    queries,
    release() {
      const h = held;
      held = [];
      h.forEach((f) => f());
    },
  };
}

function source(d: Disposables, name: string, url: string, fence: WriteFence): PooledDataSource {
  const upstream = new UpstreamClient(5000);
  d.defer(() => upstream.close());
  const pool = new InstancePool<ServiceInstance>({ service: name, logger: createLogger('test', { level: 'silent' }) });
  pool.setInstances([{ id: `${name}1`, service: name, url, registeredAt: new Date().toISOString(), lastHeartbeat: new Date().toISOString() }]);
  d.defer(() => pool.close());
  return new PooledDataSource({ name, pool: () => pool, upstream, fence });
}

const op = (query: string, ctx: Partial<GatewayContext>) =>
  ({ request: { query, variables: {} }, context: ctx, kind: 'INCOMING_OPERATION' }) as unknown as GraphQLDataSourceProcessOptions<GatewayContext>;

describe('in-flight merging never serves a read older than the same caller\'s acknowledged write', () => {
  const d = new Disposables();
  afterEach(() => d.disposeAll());

  it('a read after a write (to any subgraph) does not join a fetch that started before the write; other callers still merge', async () => {
    const up = await startUpstream(d);
    const fence = new WriteFence();
    const courses = source(d, 'courses', up.url, fence);
    const users = source(d, 'users', up.url, fence);
    const alice = { requestId: 'r', token: 'alice', forwardedFor: '192.0.2.1' };
    const bob = { requestId: 'r', token: 'bob', forwardedFor: '192.0.2.2' };
    const READ = 'query Q { version }';

    const before = courses.process(op(READ, alice)); // in flight, reads the state before the write
    const bobBefore = courses.process(op(READ, bob));
    await waitFor(() => up.queries.length === 2, { what: 'both reads to reach the upstream' });
    const joined = courses.process(op(READ, alice)); // no write yet: merging is fine
    const write = await users.process(op('mutation W { write }', alice)); // acknowledged
    expect(write.data).toEqual({ write: 1 });

    const after = courses.process(op(READ, alice));
    const bobAfter = courses.process(op(READ, bob)); // bob wrote nothing: joins his own earlier flight
    await waitFor(() => up.queries.length === 3, { what: "alice's fresh read to reach the upstream" });
    up.release();
    await waitFor(() => up.queries.length === 3, { what: 'settle' });
    const [b, j, a, bb, ba] = await Promise.all([before, joined, after, bobBefore, bobAfter]);
    expect(b.data).toEqual({ version: 0 });
    expect(j.data).toEqual({ version: 0 });
    expect(a.data).toEqual({ version: 1 });
    expect(bb.data).toEqual({ version: 0 });
    expect(ba.data).toEqual({ version: 0 });
    expect(up.queries).toHaveLength(3);
    expect(courses.inFlightCount).toBe(0);
  });
});

describe('WriteFence on its own', () => {
  it('lets a caller join only flights that started after its last write', () => {
    const fence = new WriteFence();
    const early = fence.now();
    expect(fence.mayJoin('alice', early)).toBe(true);
    fence.wrote('alice');
    expect(fence.mayJoin('alice', early)).toBe(false);
    expect(fence.mayJoin('bob', early)).toBe(true);
    const later = fence.now();
    expect(later).toBeGreaterThan(early);
    expect(fence.mayJoin('alice', later)).toBe(true);
  });

  it('remembers a bounded number of writers; one forgotten joins nothing older than the newest forgotten write', () => {
    const fence = new WriteFence(2);
    const t1 = fence.now(); // 1
    fence.wrote('a'); // 2
    fence.wrote('b'); // 3
    // two writers fit: a caller who never wrote still joins the oldest flight
    expect(fence.mayJoin('x', t1)).toBe(true);
    fence.wrote('a'); // 4: a is now the newest writer, b the oldest
    fence.wrote('c'); // 5: b (3) is forgotten
    expect(fence.mayJoin('x', t1)).toBe(false);
    expect(fence.mayJoin('x', 3)).toBe(false);
    expect(fence.mayJoin('x', 3.5)).toBe(true);
    // a (4) and c (5) are still remembered one by one
    expect(fence.mayJoin('a', 4)).toBe(false);
    expect(fence.mayJoin('a', 4.5)).toBe(true);
    expect(fence.mayJoin('c', 4.5)).toBe(false);
    fence.wrote('d'); // 6: a (4) goes; the bound moves up, never down
    expect(fence.mayJoin('a', 3.5)).toBe(false);
    expect(fence.mayJoin('x', 4.5)).toBe(true);
    expect(fence.mayJoin('c', 5.5)).toBe(true);
  });
});
