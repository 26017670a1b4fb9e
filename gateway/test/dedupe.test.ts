import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import { InstancePool, createLogger, type ServiceInstance } from '@dream/common';
import { Disposables } from '@dream/common/testing';
import type { GatewayContext } from '../src/context';
import { PooledDataSource, cloneJson, representationKey } from '../src/data-source';
import { UpstreamClient } from '../src/upstream';

/**
 * An upstream that answers every POST after it has seen `hold` requests or 300 ms, whichever is
 * first, so concurrent fetches are really in flight together; it records what reached it.
 */
interface Seen {
  body: { query: string; variables?: Record<string, unknown> };
  headers: IncomingMessage['headers'];
}
async function startHoldingUpstream(d: Disposables): Promise<{ url: string; seen: Seen[] }> {
  const seen: Seen[] = [];
  let waiting: Array<() => void> = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString()) as Seen['body'];
      seen.push({ body, headers: req.headers });
      const answer = () => {
        res.writeHead(200, { 'content-type': 'application/json' });
        const reps = (body.variables?.representations ?? []) as Array<{ id: string }>;
        const errors = reps.flatMap((r, i) => (r.id === 'bad' ? [{ message: 'no such user', path: ['_entities', i, 'username'] }] : []));
        res.end(
          JSON.stringify({
            data: { n: seen.length, auth: req.headers.authorization ?? null, list: [{ a: 1 }], _entities: reps.map((r) => ({ id: r.id, username: `name-${r.id}` })) },
            ...(errors.length ? { errors } : {}),
          }),
        );
      };
      waiting.push(answer);
      setTimeout(() => {
        const w = waiting;
        waiting = [];
        w.forEach((f) => f());
      }, 100);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  d.defer(() => new Promise<void>((r) => server.close(() => r())));
  d.defer(() => server.closeAllConnections());
  const { port } = server.address() as { port: number };
  return { url: `http://127.0.0.1:${port}/graphql`, seen };
}

function source(d: Disposables, url: string): PooledDataSource {
  const upstream = new UpstreamClient(2000);
  d.defer(() => upstream.close());
  const pool = new InstancePool<ServiceInstance>({ service: 'courses', logger: createLogger('test', { level: 'silent' }) });
  pool.setInstances([{ id: 'c1', service: 'courses', url, registeredAt: new Date().toISOString(), lastHeartbeat: new Date().toISOString() }]);
  d.defer(() => pool.close());
  return new PooledDataSource({ name: 'courses', pool: () => pool, upstream });
}

const fetchOf = (query: string, ctx: Partial<GatewayContext>, variables: Record<string, unknown> = {}) =>
  ({ request: { query, variables }, context: ctx, kind: 'INCOMING_OPERATION' }) as unknown as GraphQLDataSourceProcessOptions<GatewayContext>;

describe('in-flight merging in PooledDataSource', () => {
  const d = new Disposables();
  afterEach(() => d.disposeAll());

  it('merges identical concurrent queries into one upstream call, each caller getting its own copy', async () => {
    const up = await startHoldingUpstream(d);
    const ds = source(d, up.url);
    const ctx = { requestId: 'generated-1', token: 'tok-a', forwardedFor: '127.0.0.1' };
    const answers = await Promise.all(
      Array.from({ length: 10 }, (_, i) => ds.process(fetchOf('query Q($x: Int) { n }', { ...ctx, requestId: `generated-${i}` }, { x: 1 }))),
    );
    expect(up.seen).toHaveLength(1);
    expect(answers.every((a) => a.data?.n === 1)).toBe(true);
    // callers never share objects: one caller changing its answer does not affect another's
    (answers[1].data!.list as Array<{ a: number }>)[0].a = 99;
    expect((answers[2].data!.list as Array<{ a: number }>)[0].a).toBe(1);
    expect(ds.inFlightCount).toBe(0);
  });

  it('does not merge queries with different tokens, variables or caller-sent request ids', async () => {
    const up = await startHoldingUpstream(d);
    const ds = source(d, up.url);
    const q = 'query Q($x: Int) { n }';
    const answers = await Promise.all([
      ds.process(fetchOf(q, { requestId: 'r1', token: 'alice' }, { x: 1 })),
      ds.process(fetchOf(q, { requestId: 'r2', token: 'bob' }, { x: 1 })),
      ds.process(fetchOf(q, { requestId: 'r3' }, { x: 1 })),
      ds.process(fetchOf(q, { requestId: 'r4', token: 'alice' }, { x: 2 })),
      ds.process(fetchOf(q, { requestId: 'client-a', requestIdFromClient: true, token: 'alice' }, { x: 1 })),
      ds.process(fetchOf(q, { requestId: 'client-b', requestIdFromClient: true, token: 'alice' }, { x: 1 })),
    ]);
    expect(up.seen).toHaveLength(6);
    expect(answers.map((a) => a.data?.auth)).toEqual(['Bearer alice', 'Bearer bob', null, 'Bearer alice', 'Bearer alice', 'Bearer alice']);
  });

  it('never merges mutations', async () => {
    const up = await startHoldingUpstream(d);
    const ds = source(d, up.url);
    const m = 'mutation M($x: Int) { n }';
    await Promise.all(Array.from({ length: 5 }, () => ds.process(fetchOf(m, { requestId: 'same', token: 'alice' }, { x: 1 }))));
    expect(up.seen).toHaveLength(5);
  });

  it('merges nothing once the merge is over: a later identical query is sent again', async () => {
    const up = await startHoldingUpstream(d);
    const ds = source(d, up.url);
    await ds.process(fetchOf('{ n }', { requestId: 'a' }));
    await ds.process(fetchOf('{ n }', { requestId: 'b' }));
    expect(up.seen).toHaveLength(2);
  });
});

describe('the merge key and what each fetch carries', () => {
  const d = new Disposables();
  afterEach(() => d.disposeAll());

  it('forwards the token, the request id and the client address, and never merges two client addresses', async () => {
    const up = await startHoldingUpstream(d);
    const merged: string[] = [];
    const upstream = new UpstreamClient(2000);
    d.defer(() => upstream.close());
    const pool = new InstancePool<ServiceInstance>({ service: 'courses', logger: createLogger('test', { level: 'silent' }) });
    pool.setInstances([{ id: 'c1', service: 'courses', url: up.url, registeredAt: new Date().toISOString(), lastHeartbeat: new Date().toISOString() }]);
    d.defer(() => pool.close());
    const ds = new PooledDataSource({ name: 'courses', pool: () => pool, upstream, onMerged: (n) => merged.push(n) });
    const q = 'query Q { n }';
    await Promise.all([
      ds.process(fetchOf(q, { requestId: 'g1', token: 't', forwardedFor: '10.0.0.1' })),
      ds.process(fetchOf(q, { requestId: 'g2', token: 't', forwardedFor: '10.0.0.2' })),
      ds.process(fetchOf(q, { requestId: 'g3', token: 't', forwardedFor: '10.0.0.1' })),
    ]);
    expect(up.seen).toHaveLength(2);
    expect(merged).toEqual(['courses']);
    const sent = up.seen.map((x) => [x.headers.authorization, x.headers['x-forwarded-for'], x.headers['x-request-id'], x.headers['content-type']]);
    expect(sent).toEqual([
      ['Bearer t', '10.0.0.1', 'g1', 'application/json'],
      ['Bearer t', '10.0.0.2', 'g2', 'application/json'],
    ]);
    expect(up.seen[0].body).toEqual({ query: q, variables: {} });
    // nothing forwarded that the caller did not have
    await ds.process(fetchOf('{ n }', {}));
    expect(up.seen[2].headers).not.toHaveProperty('authorization');
    expect(up.seen[2].headers).not.toHaveProperty('x-forwarded-for');
    expect(up.seen[2].headers).not.toHaveProperty('x-request-id');
  });

  it('merges an anonymous `{ … }` query and one with leading whitespace, never a subscription or a mutation written with leading space', async () => {
    const up = await startHoldingUpstream(d);
    const ds = source(d, up.url);
    const same = (q: string, n = 3) => Promise.all(Array.from({ length: n }, (_, i) => ds.process(fetchOf(q, { requestId: `r${i}` }))));
    await same('{ n }');
    expect(up.seen).toHaveLength(1);
    await same('  \n query Q { n }');
    expect(up.seen).toHaveLength(2);
    await same('  mutation M { n }');
    expect(up.seen).toHaveLength(5);
    await same('subscription S { n }');
    expect(up.seen).toHaveLength(8);
    // "queryX" is not the keyword query
    await same('queryish { n }', 2);
    expect(up.seen).toHaveLength(10);
  });

  it('with merging off every fetch is sent', async () => {
    const up = await startHoldingUpstream(d);
    const upstream = new UpstreamClient(2000);
    d.defer(() => upstream.close());
    const pool = new InstancePool<ServiceInstance>({ service: 'courses' });
    pool.setInstances([{ id: 'c1', service: 'courses', url: up.url, registeredAt: '', lastHeartbeat: '' }]);
    d.defer(() => pool.close());
    const ds = new PooledDataSource({ name: 'courses', pool: () => pool, upstream, dedupe: false });
    const answers = await Promise.all(Array.from({ length: 3 }, () => ds.process(fetchOf('query Q { n }', { requestId: 'x', token: 't' }))));
    expect(up.seen).toHaveLength(3);
    expect(answers.map((a) => a.data?.auth)).toEqual(['Bearer t', 'Bearer t', 'Bearer t']);
    expect(ds.inFlightCount).toBe(0);
  });

  it('a fetch without a context is sent with no caller headers', async () => {
    const up = await startHoldingUpstream(d);
    const ds = source(d, up.url);
    const ask = (query: string) =>
      ds.process({ request: { query, variables: {} }, context: undefined, kind: 'INCOMING_OPERATION' } as unknown as GraphQLDataSourceProcessOptions<GatewayContext>);
    expect((await ask('{ n }')).data?.auth).toBeNull();
    expect((await ask('mutation { n }')).data?.auth).toBeNull();
    expect(up.seen.map((x) => x.headers.authorization)).toEqual([undefined, undefined]);
  });

  it('a query that reached a failing instance is retried on the next one (merged or not); a mutation never is', async () => {
    // instance A takes each request and drops the connection without an answer: the request reached it
    const dropped: string[] = [];
    const a = createServer((req) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        dropped.push((JSON.parse(body) as { query: string }).query);
        req.socket.destroy();
      });
    });
    await new Promise<void>((r) => a.listen(0, '127.0.0.1', r));
    d.defer(() => new Promise<void>((r) => a.close(() => r())));
    const b = await startHoldingUpstream(d);
    const upstream = new UpstreamClient(2000);
    d.defer(() => upstream.close());
    const at = (u: string, id: string) => ({ id, service: 'courses', url: u, registeredAt: '', lastHeartbeat: '' });
    const make = (dedupe: boolean) => {
      const pool = new InstancePool<ServiceInstance>({ service: 'courses', breaker: { threshold: 1000 } });
      pool.setInstances([at(`http://127.0.0.1:${(a.address() as { port: number }).port}/graphql`, 'a'), at(b.url, 'b')]);
      d.defer(() => pool.close());
      return new PooledDataSource({ name: 'courses', pool: () => pool, upstream, dedupe });
    };
    for (const dedupe of [true, false]) {
      for (const q of ['query Q { n }', '{ n }', 'query Q { mutation }']) {
        const ds = make(dedupe); // a fresh pool: the first pick is A
        expect((await ds.process(fetchOf(q, { requestId: 'r' }))).data?.n).toEqual(expect.any(Number));
      }
      for (const m of ['mutation M { n }', '  mutation M { n }', '\nmutation { n }']) {
        const ds = make(dedupe);
        const seenBefore = b.seen.length;
        await expect(ds.process(fetchOf(m, { requestId: 'r' }))).rejects.toThrow(/^Service "courses" is unavailable/);
        expect(b.seen.length).toBe(seenBefore); // never replayed on B
      }
    }
    expect(dropped.filter((q) => q.includes('mutation M') || q.startsWith('\nmutation'))).toHaveLength(6);
  });

  it('a failed upstream: SERVICE_UNAVAILABLE naming the subgraph, reported once, and a merged follower gets the same failure', async () => {
    const errors: string[] = [];
    const upstream = new UpstreamClient(2000);
    d.defer(() => upstream.close());
    const pool = new InstancePool<ServiceInstance>({ service: 'courses' });
    // nothing listens on port 9 of 127.0.0.1 (discard, never open here): connection refused
    pool.setInstances([{ id: 'c1', service: 'courses', url: 'http://127.0.0.1:9/graphql', registeredAt: '', lastHeartbeat: '' }]);
    d.defer(() => pool.close());
    const ds = new PooledDataSource({ name: 'courses', pool: () => pool, upstream, onUpstreamError: (n, e) => errors.push(`${n}: ${(e as Error).message}`) });
    const results = await Promise.allSettled([ds.process(fetchOf('{ n }', { requestId: 'a' })), ds.process(fetchOf('{ n }', { requestId: 'b' }))]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    for (const r of results) {
      const e = (r as PromiseRejectedResult).reason as { extensions?: { code?: string }; message: string };
      expect({ code: e.extensions?.code, message: e.message }).toEqual({ code: 'SERVICE_UNAVAILABLE', message: expect.stringMatching(/^Service "courses" is unavailable/) });
    }
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/^courses: /);
    expect(ds.inFlightCount).toBe(0);
    // an error that is not an AppError becomes the subgraph's SERVICE_UNAVAILABLE
    const broken = new PooledDataSource({
      name: 'users',
      pool: () => ({ execute: () => Promise.reject(new TypeError('boom')) }) as unknown as InstancePool<ServiceInstance>,
      upstream,
    });
    await expect(broken.process(fetchOf('{ n }', {}))).rejects.toThrow('Service "users" is unavailable.');
  });
});

describe('entity representations sent once per entity', () => {
  const d = new Disposables();
  afterEach(() => d.disposeAll());

  it('sends each distinct representation once and answers in the original order with separate copies', async () => {
    const up = await startHoldingUpstream(d);
    const ds = source(d, up.url);
    const q = 'query E($representations: [_Any!]!) { _entities(representations: $representations) { ... on User { username } } }';
    const reps = ['a', 'b', 'a', 'a', 'c', 'b'].map((id) => ({ __typename: 'User', id }));
    const answer = await ds.process(fetchOf(q, { requestId: 'r' }, { representations: reps }));
    expect(up.seen).toHaveLength(1);
    expect((up.seen[0].body.variables!.representations as unknown[]).length).toBe(3);
    const entities = answer.data!._entities as Array<{ id: string; username: string }>;
    expect(entities.map((e) => e.id)).toEqual(['a', 'b', 'a', 'a', 'c', 'b']);
    expect(entities[0]).not.toBe(entities[2]);
    expect(entities[2].username).toBe('name-a');
  });

  it('repeats an entity error for every occurrence of that entity', async () => {
    const up = await startHoldingUpstream(d);
    const ds = source(d, up.url);
    const q = 'query E($representations: [_Any!]!) { _entities(representations: $representations) { ... on User { username } } }';
    const reps = ['a', 'bad', 'a', 'bad'].map((id) => ({ __typename: 'User', id }));
    const answer = await ds.process(fetchOf(q, { requestId: 'r' }, { representations: reps }));
    expect(answer.errors?.map((e) => e.path)).toEqual([
      ['_entities', 1, 'username'],
      ['_entities', 3, 'username'],
    ]);
  });

  it('leaves lists without repeats untouched', async () => {
    const up = await startHoldingUpstream(d);
    const ds = source(d, up.url);
    const reps = ['a', 'b'].map((id) => ({ __typename: 'User', id }));
    await ds.process(fetchOf('query E($representations: [_Any!]!) { _entities(representations: $representations) { __typename } }', { requestId: 'r' }, { representations: reps }));
    expect(up.seen[0].body.variables!.representations).toEqual(reps);
  });
});

describe('representationKey: one key per distinct representation', () => {
  it('equal representations share a key; different ones never do, whatever their values hold', () => {
    const reps: unknown[] = [
      { __typename: 'User', id: 'u1' },
      { __typename: 'User', id: 'u2' },
      { __typename: 'Course', id: 'u1' },
      { __typename: 'User', id: 1 },
      { __typename: 'User', id: '1' },
      { __typename: 'User', id: null },
      { __typename: 'User', id: 'null' },
      // a value that spells out another field must not read as one
      { __typename: 'User', id: 'x2:id2:sy' },
      { __typename: 'User', id: 'x', b: 'y' },
      { a: 'x\u0000b\u0000sy' },
      { a: 'x', b: 'y' },
      ['User', 'u1'],
      { 0: 'User', 1: 'u1' },
      { __typename: 'User', key: { org: 'o', id: 'u1' } },
      { __typename: 'User', key: { org: 'o', id: 'u2' } },
      {},
      'User',
    ];
    const keys = reps.map(representationKey);
    expect(new Set(keys).size).toBe(reps.length);
    expect(representationKey({ __typename: 'User', id: 'u1' })).toBe(keys[0]);
    expect(representationKey({ __typename: 'User', key: { org: 'o', id: 'u1' } })).toBe(keys[13]);
  });
});

describe('cloneJson: the copy a repeated entity gets', () => {
  it('copies a `__proto__` key (a client alias) as a field, the way JSON.parse read it, never as the prototype', () => {
    const entity = JSON.parse('{"__proto__":{"isAdmin":true},"name":"Alice","tags":["a",{"__proto__":"x"}]}') as Record<string, unknown>;
    const copy = cloneJson(entity);
    expect(copy).toEqual(entity);
    expect(Object.keys(copy)).toEqual(['__proto__', 'name', 'tags']);
    expect(Object.getPrototypeOf(copy)).toBe(Object.prototype);
    expect((copy as { isAdmin?: boolean }).isAdmin).toBeUndefined();
    expect(JSON.stringify(copy)).toBe(JSON.stringify(entity));
    expect(copy.tags).not.toBe(entity.tags);
  });
});
