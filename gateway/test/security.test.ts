import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { AppError, serviceAuthValue } from '@dream/common';
import { callMetadata, createPurchaseServiceClient } from '@dream/common/grpc';
import { waitFor } from '@dream/common/testing';
import type { Gateway } from '../src/server';
import { api, signup } from './client/api';
import { gqlWsClient, rawSocket, subscribe, within } from './client/ws-clients';
import { useStack, gql, servedBy, waitForPool } from './helpers';

/** A WebSocket upgrade request by hand: the status and headers of the answer (101 or a refusal). */
function upgrade(gw: Gateway, path: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${gw.url}${path}`, {
      headers: { connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-version': '13', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==', ...headers },
    });
    req.on('upgrade', (res, socket) => {
      socket.destroy();
      resolve({ status: res.statusCode!, headers: res.headers, body: '' });
    });
    req.on('response', (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

jest.setTimeout(120_000);

/**
 * Security properties of the real topology (in-process discovery, subgraphs and gateway on free
 * ports, a private redis-server). Each describe is one class of attack; the Redis outage runs last.
 */
describe('gateway security', () => {
  const stack = useStack({ subgraphEnv: { LOGIN_MAX_ATTEMPTS: '3', SIGNUP_MAX_PER_WINDOW: '40' } });
  let gw: Gateway;
  const bearer = (jwt: string) => ({ authorization: `Bearer ${jwt}` });

  beforeAll(async () => {
    await stack.addUsers();
    await stack.addCourses();
    gw = await stack.gateway();
    await gw.ready();
    await waitFor(() => gw.supergraph.subgraphs.length === 2, { what: 'both subgraphs composed' });
    await waitForPool(gw, 'courses', 1);
  });

  describe('query cost and size', () => {
    const subgraphCalls = async () => (await Promise.all([...stack.courses, ...stack.users].map(servedBy))).reduce((a, b) => a + b, 0);
    const refusedBeforeSubgraphs = async (query: string, code: string | string[], variables?: Record<string, unknown>) => {
      const before = await subgraphCalls();
      const r = await gql(gw, query, { variables });
      expect(r.status).toBe(400);
      if (![code].flat().includes(r.body.errors?.[0].extensions?.code)) throw new Error(`expected ${code}, got ${JSON.stringify(r.body.errors?.[0])}`);
      expect(r.body.data ?? null).toBeNull();
      expect(await subgraphCalls()).toBe(before);
      return r;
    };

    it('nested lists multiply by their first argument (or the assumed size): over the ceiling is QUERY_TOO_COMPLEX before any subgraph call', async () => {
      await refusedBeforeSubgraphs('{ courses(first: 100) { owner { ownedCourses(first: 100) { owner { username } } } } }', 'QUERY_TOO_COMPLEX');
      // the size can come from a variable; without one a list costs the assumed size (100)
      await refusedBeforeSubgraphs('query($n: Int) { courses(first: $n) { owner { ownedCourses { id name } } } }', 'QUERY_TOO_COMPLEX', { n: 100 });
      const ok = await gql(gw, '{ courses(first: 10) { id owner { ownedCourses(first: 5) { id } } } }');
      expect(ok.status).toBe(200);
      expect(ok.body.errors).toBeUndefined();
    });

    it('fields per selection set, fields in total (fragments expanded) and parser tokens are limited', async () => {
      await refusedBeforeSubgraphs(`{ ${'__typename '.repeat(300)} }`, 'QUERY_TOO_COMPLEX');
      const frag = `fragment F on Course { ${'id name info category price cursor createdAt updatedAt '.repeat(20)} }`;
      const spreads = Array.from({ length: 10 }, (_, i) => `c${i}: course(id: "x") { ...F }`).join(' ');
      await refusedBeforeSubgraphs(`{ ${spreads} } ${frag}`, 'QUERY_TOO_COMPLEX');
      const many = await refusedBeforeSubgraphs(`{ categories ${'# c\n'.repeat(10)}${' __typename'.repeat(6000)} }`, 'GRAPHQL_PARSE_FAILED');
      expect(many.body.errors?.[0].message).toMatch(/token/i);
      // introspection (Sandbox's query) still works, but its lists cannot be nested on and on
      const { getIntrospectionQuery } = await import('graphql');
      expect((await gql(gw, getIntrospectionQuery({ descriptions: true, inputValueDeprecation: true }))).status).toBe(200);
      // (graphql-js's own introspection-depth rule may see it first)
      await refusedBeforeSubgraphs('{ __schema { types { fields { type { fields { type { fields { name } } } } } } } }', ['QUERY_TOO_COMPLEX', 'GRAPHQL_VALIDATION_FAILED']);
    });

    it('over graphql-ws a costly operation is refused with the same code', async () => {
      const client = gqlWsClient(stack.d, gw);
      const sub = subscribe(client, 'subscription { courseCreated { owner { ownedCourses(first: 100) { owner { ownedCourses(first: 100) { id } } } } } }');
      await expect(sub.inbox.take(() => true, 5000, 'an answer')).rejects.toThrow(/QUERY_TOO_COMPLEX/);
    });

    it('1 MB adversarial documents do not stall other requests (event-loop delay measured while they run)', async () => {
      const body = (q: string) => JSON.stringify({ query: q });
      const adversarial = [
        `{ ${'__typename '.repeat(90_000)} }`, // O(n²) field-merge validation without a token limit
        `{ ${'courses { '.repeat(60_000)}id${' }'.repeat(60_000)} }`, // nesting
        `query { ${'a: categories '.repeat(70_000)} }`, // aliases
      ].map((q) => body(q.slice(0, 1_000_000)));
      for (const b of adversarial) expect(b.length).toBeGreaterThan(500_000);
      const h = monitorEventLoopDelay({ resolution: 10 });
      h.enable();
      const hostile = adversarial.flatMap((b) =>
        [0, 1].map(() => fetch(`${gw.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: b }).then((r) => r.status)),
      );
      const normal = Array.from({ length: 20 }, () => gql(gw, '{ categories }').then((r) => r.status));
      const [hs, ns] = await Promise.all([Promise.all(hostile), Promise.all(normal)]);
      h.disable();
      expect(hs.every((s) => s === 400)).toBe(true);
      expect(ns.every((s) => s === 200)).toBe(true);
      // a behaviour check on a shared CPU, not a speed target: without the limits one document blocks for seconds to minutes
      expect(h.max / 1e6).toBeLessThan(1000);
    });
  });

  describe('object- and property-level authorization (one test per private field: anonymous, another user, the owner)', () => {
    let alice: { jwt: string; id: string; username: string };
    let bob: { jwt: string; id: string; username: string };
    beforeAll(async () => {
      alice = await signup(gw, 'STUDENT');
      bob = await signup(gw, 'STUDENT');
      const owner = await signup(gw, 'OWNER');
      await gql(gw, 'mutation { createCourse(input: { name: "authz", info: "x", category: "authz", price: 1 }) { id } }', { headers: bearer(owner.jwt) });
      const joined = await api(gw, 'POST', '/api/student-service/course/subscribe', { jwt: alice.jwt, body: { cathegory: 'authz', userId: alice.id } });
      expect(joined.status).toBe(200);
    });
    const asUser = (query: string, jwt?: string) => gql(gw, query, { headers: jwt ? bearer(jwt) : {} });

    it('User.email', async () => {
      const q = `{ user(id: "${alice.id}") { username email } }`;
      expect((await asUser(q)).body.data!.user).toEqual({ username: alice.username, email: null });
      expect((await asUser(q, bob.jwt)).body.data!.user).toEqual({ username: alice.username, email: null });
      expect((await asUser(q, alice.jwt)).body.data!.user.email).toBe(`${alice.username}@example.org`);
    });

    it('User.enrolledCourses (what a user bought or joined)', async () => {
      const q = `{ user(id: "${alice.id}") { enrolledCourses { name } } }`;
      expect((await asUser(q)).body.data!.user.enrolledCourses).toBeNull();
      expect((await asUser(q, bob.jwt)).body.data!.user.enrolledCourses).toBeNull();
      expect((await asUser(q, alice.jwt)).body.data!.user.enrolledCourses).toEqual([{ name: 'authz' }]);
    });

    it('Query.me (the caller only, never someone else)', async () => {
      expect((await asUser('{ me { id } }')).body.data!.me).toBeNull();
      expect((await asUser('{ me { id } }', bob.jwt)).body.data!.me.id).toBe(bob.id);
      expect((await asUser('{ me { id email } }', alice.jwt)).body.data!.me).toEqual({ id: alice.id, email: `${alice.username}@example.org` });
    });

    it('Subscription.myNotifications', async () => {
      const anon = subscribe(gqlWsClient(stack.d, gw), 'subscription { myNotifications { text } }');
      await expect(anon.inbox.take(() => true, 5000, 'an answer')).rejects.toThrow();
      const live = gw.clientSurface.graphqlWs.activeSubscriptions;
      const bobs = subscribe(gqlWsClient(stack.d, gw, { jwt: bob.jwt }), 'subscription { myNotifications { text } }');
      const alices = subscribe(gqlWsClient(stack.d, gw, { jwt: alice.jwt }), 'subscription { myNotifications { text } }');
      await waitFor(() => gw.clientSurface.graphqlWs.activeSubscriptions >= live + 2, { what: 'both subscriptions' });
      const { Redis } = await import('ioredis');
      const pub = new Redis(stack.redis.url);
      stack.d.defer(() => pub.disconnect());
      await pub.publish('notification', JSON.stringify({ userId: alice.id, kind: 'test', text: 'for alice' }));
      await pub.publish('notification', JSON.stringify({ userId: bob.id, kind: 'test', text: 'for bob' }));
      await alices.inbox.take((v) => v.data?.myNotifications?.text === 'for alice', 5000, "alice's notification");
      await bobs.inbox.take((v) => v.data?.myNotifications?.text === 'for bob', 5000, "bob's notification");
      expect(bobs.inbox.values.map((v) => v.data?.myNotifications?.text)).toEqual(['for bob']);
      expect(alices.inbox.values.map((v) => v.data?.myNotifications?.text)).toEqual(['for alice']);
    });

    it('PurchaseResult (buyCourse): only the buyer, only for themself', async () => {
      const body = { userId: bob.id, courseId: 'whatever' };
      expect((await api(gw, 'POST', '/courses/whatever/buy', { body })).status).toBe(401);
      // alice cannot buy on bob's behalf
      expect((await api(gw, 'POST', '/courses/whatever/buy', { jwt: alice.jwt, body })).status).toBe(403);
    });
  });

  describe('client address and abuse limits through the gateway', () => {
    const login = (g: Gateway, username: string, xff: string) =>
      api(g, 'POST', '/api/users/login', { body: { username, password: 'wrong password' }, headers: { 'x-forwarded-for': xff } });

    it('a client-sent X-Forwarded-For is ignored unless the peer is a trusted proxy', async () => {
      const victim = await signup(gw, 'STUDENT');
      const statuses: number[] = [];
      for (let i = 0; i < 5; i++) statuses.push((await login(gw, victim.username, `192.0.2.${i + 1}`)).status);
      // three real tries from this client, whatever address it claims each time
      expect(statuses).toEqual([401, 401, 401, 429, 429]);

      const behindProxy = await stack.gateway({ TRUSTED_PROXIES: 'loopback' });
      await behindProxy.ready();
      await waitForPool(behindProxy, 'users', 1);
      const other = await signup(gw, 'STUDENT');
      const proxied: number[] = [];
      for (let i = 0; i < 4; i++) proxied.push((await login(behindProxy, other.username, '192.0.2.50')).status);
      expect(proxied).toEqual([401, 401, 401, 429]);
      // the proxy vouches for another client: another bucket
      expect((await login(behindProxy, other.username, '192.0.2.51')).status).toBe(401);
      // and only the nearest untrusted entry counts: a forged entry left of it changes nothing
      expect((await login(behindProxy, other.username, '10.0.0.1, 192.0.2.50')).status).toBe(429);
    });

    it('WebSocket connections are capped per address; the refusal is a 429 with the security headers', async () => {
      const g = await stack.gateway({ WS_MAX_CONNECTIONS_PER_ADDRESS: '2' });
      await g.ready();
      const student = await signup(gw, 'STUDENT');
      const a = rawSocket(stack.d, g, '/courses', { headers: bearer(student.jwt) });
      const b = rawSocket(stack.d, g, '/courses', { headers: bearer(student.jwt) });
      await Promise.all([a.opened, b.opened]);
      const refused = await upgrade(g, '/courses', bearer(student.jwt));
      expect(refused.status).toBe(429);
      expect(JSON.parse(refused.body).error.code).toBe('RATE_LIMITED');
      expect(refused.headers['retry-after']).toBeDefined();
      for (const h of ['x-content-type-options', 'x-frame-options', 'content-security-policy', 'referrer-policy']) expect(refused.headers[h]).toBeDefined();
      const unknown = await upgrade(g, '/nowhere');
      expect(unknown.status).toBe(404);
      expect(unknown.headers['content-security-policy']).toBeDefined();
      a.ws.close();
      await a.closed;
      await waitFor(() => g.clientSurface.connections.size === 1, { what: 'the closed socket to be released' });
      expect((await upgrade(g, '/courses', bearer(student.jwt))).status).toBe(101);
    });

    it('graphql-ws subscriptions are capped per address across connections', async () => {
      const g = await stack.gateway({ MAX_SUBSCRIPTIONS_PER_ADDRESS: '2' });
      await g.ready();
      const q = 'subscription { courseCreated { id } }';
      const c1 = gqlWsClient(stack.d, g);
      const c2 = gqlWsClient(stack.d, g);
      subscribe(c1, q);
      subscribe(c2, q);
      await waitFor(() => g.clientSurface.graphqlWs.activeSubscriptions === 2, { what: 'two live subscriptions' });
      const third = subscribe(c2, q);
      await expect(third.inbox.take(() => true, 5000, 'an answer')).rejects.toThrow(/RATE_LIMITED/);
      expect(g.clientSurface.graphqlWs.activeSubscriptions).toBe(2);
    });

    it("a burst of events faster than they resolve is dropped past a group's bounded backlog, not queued without end", async () => {
      const owner = await signup(gw, 'OWNER');
      const created = await gql(gw, 'mutation { createCourse(input: { name: "burst", info: "x", category: "burst", price: 1 }) { id } }', { headers: bearer(owner.jwt) });
      const id = created.body.data!.createCourse.id as string;
      const client = gqlWsClient(stack.d, gw);
      const live = gw.clientSurface.graphqlWs.activeSubscriptions;
      const sub = subscribe(client, `subscription { courseUpdated(id: "${id}") { id name owner { username } } }`);
      await waitFor(() => gw.clientSurface.graphqlWs.activeSubscriptions > live, { what: 'the subscription' });
      await gw.clientSurface.events.ready();
      const { Redis } = await import('ioredis');
      const pub = new Redis(stack.redis.url);
      stack.d.defer(() => pub.disconnect());
      const event = JSON.stringify({ courseId: id, ownerId: owner.id, category: 'burst' });
      // one MULTI: Redis writes all 1000 messages to the gateway's subscriber connection at once
      const p = pub.multi();
      for (let i = 0; i < 1000; i++) p.publish('course.updated', event);
      await p.exec();
      await sub.inbox.take((v) => !!v.data, 10_000, 'a delivered event');
      await waitFor(() => gw.clientSurface.graphqlWs.droppedEvents > 0, { timeoutMs: 10_000, what: 'events dropped past the backlog' });
      // far fewer deliveries than events: the backlog was bounded
      await waitFor(async () => (await gql(gw, '{ categories }')).status === 200, { what: 'the gateway to answer' });
      expect(sub.inbox.values.length).toBeLessThan(1000);
    });
  });

  describe('service-to-service trust', () => {
    it('discovery answers 401 to every /v1 call without the DISCOVERY_TOKEN (register, heartbeat, list, watch, deregister)', async () => {
      const call = (method: string, path: string, token?: string, body?: unknown) =>
        fetch(`${stack.discoveryUrl}${path}`, {
          method,
          headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
          body: body === undefined ? undefined : JSON.stringify(body),
        }).then(async (r) => ({ status: r.status, body: await r.text() }));
      const rogue = { service: 'courses', url: 'http://203.0.113.9:4002/graphql' };
      for (const token of [undefined, 'wrong-token', `${stack.discoveryToken}x`]) {
        const r = await call('POST', '/v1/instances', token, rogue);
        expect(r.status).toBe(401);
        expect(JSON.parse(r.body).error.code).toBe('UNAUTHENTICATED');
        expect((await call('GET', '/v1/services', token)).status).toBe(401);
        expect((await call('GET', '/v1/watch?since=0&timeoutMs=0', token)).status).toBe(401);
        expect((await call('PUT', '/v1/instances/abc/heartbeat', token)).status).toBe(401);
        expect((await call('DELETE', '/v1/instances/abc', token)).status).toBe(401);
      }
      expect((await stack.client.list()).services.courses?.some((i) => i.url === rogue.url)).toBe(false);
      // health stays open (load balancers and orchestrators probe it)
      expect((await call('GET', '/health')).status).toBe(200);
    });

    it('the gateway composes and routes only configured subgraph names', async () => {
      const reg = await stack.client.register({ service: 'rogue', url: stack.courses[0].url }, { heartbeatMs: 500 });
      try {
        await waitFor(async () => !!(await stack.client.list()).services.rogue?.length, { what: 'rogue registered' });
        const version = (await stack.client.list()).version;
        await waitFor(() => (gw.supergraph.snapshot?.version ?? 0) >= version, { what: 'the gateway to see that version' });
        expect(Object.keys(gw.supergraph.snapshot!.services)).not.toContain('rogue');
        expect(gw.supergraph.subgraphs.sort()).toEqual(['courses', 'users']);
        expect(gw.pools.has('rogue')).toBe(false);
      } finally {
        await reg.deregister();
      }
    });

    it('gRPC calls must be signed by a platform service as well as carry the user token', async () => {
      const grpcUrl = `127.0.0.1:${stack.courses[0].service.grpcPort}`;
      const client = createPurchaseServiceClient({ instances: () => [{ id: 'c', grpcUrl }], deadlineMs: 3000 });
      stack.d.defer(() => client.close());
      const student = stack.token(['STUDENT']);
      const attempt = (md: ReturnType<typeof callMetadata>) =>
        client.unary('BuyCourse', { userId: '', courseId: 'no-such-course', idempotencyKey: '' }, { metadata: md }).then(
          () => 'OK',
          (e: unknown) => (e as AppError).code ?? String(e),
        );
      // a valid user token alone: refused
      expect(await attempt(callMetadata({ token: student }))).toBe('UNAUTHENTICATED');
      // forged, stale or wrong-secret signatures: refused
      const forged = callMetadata({ token: student });
      forged.set('x-service-auth', serviceAuthValue('not-the-secret', 'users'));
      expect(await attempt(forged)).toBe('UNAUTHENTICATED');
      const stale = callMetadata({ token: student });
      stale.set('x-service-auth', serviceAuthValue(stack.serviceToken, 'users', Date.now() - 3_600_000));
      expect(await attempt(stale)).toBe('UNAUTHENTICATED');
      // signed by a service: it reaches the purchase logic (the course does not exist)
      expect(await attempt(callMetadata({ token: student, service: { name: 'users', secret: stack.serviceToken } }))).toBe('NOT_FOUND');
      // signed, but without a user token: still refused
      expect(await attempt(callMetadata({ service: { name: 'users', secret: stack.serviceToken } }))).toBe('UNAUTHENTICATED');
    });
  });

  describe('secrets and exposure', () => {
    it('/ready and /metrics answer only with the STATUS_TOKEN (or, without one, only on this machine); /health stays public', async () => {
      const g = await stack.gateway({ STATUS_TOKEN: 'status-secret-1234' });
      await g.ready();
      for (const path of ['/ready', '/metrics']) {
        const anon = await fetch(`${g.url}${path}`);
        expect(anon.status).toBe(401);
        const body = await anon.text();
        expect(body).not.toMatch(/127\.0\.0\.1:\d+/);
        expect(anon.headers.get('content-security-policy')).toBeTruthy();
        expect((await fetch(`${g.url}${path}`, { headers: { authorization: 'Bearer wrong' } })).status).toBe(401);
        const ok = await fetch(`${g.url}${path}`, { headers: { authorization: 'Bearer status-secret-1234' } });
        expect([200, 503]).toContain(ok.status);
        await ok.body?.cancel();
      }
      expect((await fetch(`${g.url}/health`)).status).toBe(200);
      // the liveness route a kubelet probes without a token
      expect((await fetch(`${g.url}/live`)).status).toBe(200);
    });

    it('WebSocket clients without headers use a short-lived single-use ticket; a JWT in the URL is refused', async () => {
      const student = await signup(gw, 'STUDENT');
      expect((await api(gw, 'POST', '/api/ws-ticket')).status).toBe(401);
      const issued = await api(gw, 'POST', '/api/ws-ticket', { jwt: student.jwt });
      expect(issued.status).toBe(201);
      expect(issued.body.expiresInSeconds).toBeLessThanOrEqual(60);
      const ticket = issued.body.ticket as string;
      expect(ticket).not.toContain(student.jwt.split('.')[1]);
      const first = rawSocket(stack.d, gw, `/courses?ticket=${ticket}`);
      await first.inbox.take(Array.isArray, 5000, 'the course list');
      const again = rawSocket(stack.d, gw, `/courses?ticket=${ticket}`);
      expect((await within(again.closed, 5000, 'the reused ticket to be refused')).code).toBe(4401);
      const viaJwt = rawSocket(stack.d, gw, `/courses?jwt=${student.jwt}`);
      expect((await within(viaJwt.closed, 5000, 'a JWT in the URL to be refused')).code).toBe(4401);
      // graphql-ws too: a ticket authenticates the connection for myNotifications
      const t2 = (await api(gw, 'POST', '/api/ws-ticket', { jwt: student.jwt })).body.ticket as string;
      const { createClient } = await import('graphql-ws');
      const WebSocket = (await import('ws')).default;
      const client = createClient({ url: `${gw.url.replace(/^http/, 'ws')}/graphql?ticket=${t2}`, webSocketImpl: WebSocket, retryAttempts: 0, lazy: true });
      stack.d.defer(() => client.dispose());
      const live = gw.clientSurface.graphqlWs.activeSubscriptions;
      subscribe(client, 'subscription { myNotifications { text } }');
      await waitFor(() => gw.clientSurface.graphqlWs.activeSubscriptions > live, { what: 'a signed-in subscription' });
    });
  });

  describe('fail closed when the token denylist cannot be read', () => {
    it('authenticated calls answer 503 on GraphQL, REST and WebSockets; anonymous ones still work; logout never says yes', async () => {
      const student = await signup(gw, 'STUDENT');
      expect((await gql(gw, '{ me { id } }', { headers: bearer(student.jwt) })).body.data).toEqual({ me: { id: student.id } });

      await stack.redis.stop();
      const me = await gql(gw, '{ me { id } }', { headers: bearer(student.jwt) });
      expect(me.status).toBe(503);
      expect(me.body.errors?.[0].extensions?.code).toBe('SERVICE_UNAVAILABLE');
      expect(me.body.data ?? null).toBeNull();
      const rest = await api(gw, 'GET', '/api/courses', { jwt: student.jwt });
      expect(rest.status).toBe(503);
      expect(rest.body.error.code).toBe('SERVICE_UNAVAILABLE');
      const logout = await gql(gw, 'mutation { logout }', { headers: bearer(student.jwt) });
      expect(logout.status).toBe(503);
      expect(logout.body.data?.logout ?? null).toBeNull();
      const list = rawSocket(stack.d, gw, '/courses', { headers: bearer(student.jwt) });
      expect((await within(list.closed, 10_000, 'the WS list to close')).code).toBe(1013);
      // no token: nothing to trust, nothing refused
      const anon = await gql(gw, '{ categories }');
      expect(anon.status).toBe(200);

      await stack.redis.start();
      await waitFor(async () => (await gql(gw, '{ me { id } }', { headers: bearer(student.jwt) })).status === 200, {
        timeoutMs: 15_000,
        what: 'the token to be accepted again once the denylist answers',
      });
    });
  });
});
