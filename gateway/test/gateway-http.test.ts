import { waitFor } from '@dream/common/testing';
import { useStack, gql, getJson, waitForPool } from './helpers';
import type { Gateway } from '../src/server';

jest.setTimeout(60000);

describe('gateway HTTP surface', () => {
  const stack = useStack();
  let gw: Gateway;

  beforeAll(async () => {
    // the gateway starts before any subgraph: it must answer, unhealthy, without a supergraph
    gw = await stack.gateway({ MAX_BODY_BYTES: '4096', MAX_QUERY_DEPTH: '5', MAX_ALIASES: '3' });
  });

  it('reports 500 on /health and 503 on /graphql before a supergraph, 200 after', async () => {
    const before = await getJson(`${gw.url}/health`);
    expect(before.status).toBe(500);
    expect(before.body.status).toBe('down');
    // liveness does not depend on the subgraphs: a gateway without a supergraph is alive, just not ready
    const live = await getJson(`${gw.url}/live`);
    expect(live.status).toBe(200);
    expect(live.body).toEqual({ status: 'alive' });
    const early = await gql(gw, '{ categories }');
    expect(early.status).toBe(503);
    expect(early.body.errors?.[0].extensions?.code).toBe('SERVICE_UNAVAILABLE');

    await stack.addUsers();
    await stack.addCourses();
    await gw.ready();
    await waitFor(() => gw.supergraph.subgraphs.length === 2, { what: 'both subgraphs composed' });
    const after = await getJson(`${gw.url}/health`);
    expect(after.status).toBe(200);
    expect(after.body.subgraphs.sort()).toEqual(['courses', 'users']);
  });

  it('serves a federated query across users and courses', async () => {
    const owner = await gql(gw, 'mutation($i: SignupInput!) { signup(input: $i) { jwt user { id username } } }', {
      variables: { i: { username: 'gwowner', password: 'correct horse battery', email: 'gwowner@example.com', roles: ['OWNER'] } },
    });
    expect(owner.body.errors).toBeUndefined();
    const token = owner.body.data!.signup.jwt as string;
    const created = await gql(
      gw,
      'mutation { createCourse(input: { name: "Federation 101", info: "x", category: "graphql", price: 10 }) { id } }',
      { headers: { authorization: `Bearer ${token}` } },
    );
    expect(created.body.errors).toBeUndefined();
    // the spec's `jwt` header works as well as Authorization
    const list = await gql(gw, '{ courses(first: 5) { id name owner { username } } }', { headers: { jwt: token } });
    expect(list.status).toBe(200);
    expect(list.body.data!.courses).toEqual(
      expect.arrayContaining([expect.objectContaining({ name: 'Federation 101', owner: { username: 'gwowner' } })]),
    );
  });

  // forwarding itself (a real user's `me`, the request id the subgraph used) is proven at the subgraph in isolation.test.ts
  it("echoes the client's request id, makes one when none is sent, and accepts a valid token for a user the subgraph does not know", async () => {
    const token = stack.token(['STUDENT'], 'forwarded');
    const res = await fetch(`${gw.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, 'x-request-id': 'req-abc-123' },
      body: JSON.stringify({ query: '{ me { id } }' }),
    });
    expect(res.headers.get('x-request-id')).toBe('req-abc-123');
    // a signature-valid token whose user is not in the users database: me is null, not an auth error
    expect(await res.json()).toEqual({ data: { me: null } });
    const anon = await gql(gw, '{ me { id } }');
    expect(anon.body.data).toEqual({ me: null });
    expect(anon.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('rejects a bad JWT with 401 UNAUTHENTICATED', async () => {
    for (const headers of [{ authorization: 'Bearer not-a-token' }, { jwt: 'garbage' }] as Array<Record<string, string>>) {
      const res = await gql(gw, '{ categories }', { headers });
      expect(res.status).toBe(401);
      expect(res.body).toEqual({ errors: [{ message: 'Invalid token.', extensions: { code: 'UNAUTHENTICATED' } }] });
    }
  });

  it('refuses a revoked (logged out) token with 401', async () => {
    const token = stack.token(['STUDENT'], 'revoked');
    expect((await gql(gw, '{ categories }', { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
    await gw.authenticator.revoke(stack.jwt.verify(token));
    const res = await gql(gw, '{ categories }', { headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(401);
    expect(res.body.errors?.[0]).toEqual({ message: 'Token has been revoked.', extensions: { code: 'UNAUTHENTICATED' } });
  });

  it('enforces depth, alias and body limits with clear errors', async () => {
    const deep = await gql(gw, '{ courses { owner { ownedCourses { owner { ownedCourses { id } } } } } }');
    expect(deep.status).toBe(400);
    expect(deep.body.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    expect(deep.body.errors?.[0].message).toMatch(/too deep: depth 6 exceeds the limit of 5/);

    const aliased = await gql(gw, '{ a: categories b: categories c: categories d: categories }');
    expect(aliased.status).toBe(400);
    expect(aliased.body.errors?.[0].message).toMatch(/too many aliases: 4 exceeds the limit of 3/);

    const ok = await gql(gw, '{ a: categories b: categories }');
    expect(ok.status).toBe(200);

    const big = await gql(gw, `{ categories } # ${'x'.repeat(5000)}`);
    expect(big.status).toBe(413);
    expect(big.body.errors?.[0].extensions?.code).toBe('PAYLOAD_TOO_LARGE');
  });

  it('refuses batched operations', async () => {
    const res = await fetch(`${gw.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify([{ query: '{ categories }' }, { query: '{ categories }' }]),
    });
    expect(res.status).toBe(400);
  });

  it('serves GET /graphql queries and the Sandbox landing page to browsers', async () => {
    const q = await fetch(`${gw.url}/graphql?query=${encodeURIComponent('{ categories }')}`, {
      headers: { 'apollo-require-preflight': 'true' },
    });
    expect(q.status).toBe(200);
    expect(((await q.json()) as { data: { categories: unknown } }).data.categories).toEqual(expect.any(Array));
    const page = await fetch(`${gw.url}/graphql`, { headers: { accept: 'text/html' } });
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/text\/html/);
    expect(await page.text()).toMatch(/sandbox/i);
  });

  it('answers CORS preflights so the embedded Sandbox and browser apps can call it', async () => {
    const pre = await fetch(`${gw.url}/graphql`, {
      method: 'OPTIONS',
      headers: { origin: 'https://sandbox.embed.apollographql.com', 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type,authorization' },
    });
    expect(pre.status).toBe(204);
    expect(pre.headers.get('access-control-allow-origin')).toBe('https://sandbox.embed.apollographql.com');
    expect(pre.headers.get('access-control-allow-headers')).toBe('content-type,authorization');
    const local = await fetch(`${gw.url}/graphql`, {
      method: 'POST',
      headers: { origin: 'http://localhost:5173', 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ categories }' }),
    });
    expect(local.headers.get('access-control-allow-origin')).toBe('http://localhost:5173');
    // an origin that is not configured gets no CORS grant (the browser blocks the read)
    const res = await fetch(`${gw.url}/graphql`, {
      method: 'POST',
      headers: { origin: 'https://example.org', 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ categories }' }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
    // granted or not, the answer depends on Origin: a shared cache must not hand one origin's answer to another
    for (const r of [local, res]) expect(r.headers.get('vary') ?? '').toMatch(/\borigin\b/i);
    const refused = await fetch(`${gw.url}/graphql`, {
      method: 'OPTIONS',
      headers: { origin: 'https://example.org', 'access-control-request-method': 'POST' },
    });
    expect(refused.headers.get('access-control-allow-origin')).toBeNull();
    expect(refused.headers.get('vary') ?? '').toMatch(/\borigin\b/i);
  });

  it('reports subgraphs, instances and breaker states on /ready and metrics on /metrics', async () => {
    await waitForPool(gw, 'courses', 1);
    const ready = await getJson(`${gw.url}/ready`);
    expect(ready.status).toBe(200);
    expect(ready.body.status).toBe('ready');
    expect(ready.body.subgraphs.courses.instances).toEqual([
      expect.objectContaining({ url: stack.courses[0].url, state: 'closed', consecutiveFailures: 0 }),
    ]);
    expect(ready.body.subgraphs.users.available).toBe(1);
    const metrics = await getJson(`${gw.url}/metrics`);
    expect(metrics.status).toBe(200);
    const text = String(metrics.body);
    expect(text).toMatch(/gateway_http_requests_total\{route="\/graphql",method="POST",status="200"\} \d+/);
    expect(text).toMatch(/gateway_http_request_duration_seconds_bucket/);
    expect(text).toMatch(/gateway_breaker_state\{subgraph="courses",instance="[^"]+",url="[^"]+"\} 0/);
    expect(text).toMatch(/# TYPE gateway_upstream_errors_total counter/);
  });

  it('answers 404 for unknown paths and lets later work add routes before /graphql', async () => {
    // (other GET paths are the web app's client-side routes when web/dist is built: see web-app.test.ts)
    expect((await getJson(`${gw.url}/api/nope`)).status).toBe(404);
    gw.route('GET', /^\/api\/ping\/[^/]+$/, (_req, res, info) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end(`pong ${info.path.split('/').pop()}`);
    }, '/api/ping/:id');
    const r = await fetch(`${gw.url}/api/ping/42`);
    expect(await r.text()).toBe('pong 42');
  });
});
