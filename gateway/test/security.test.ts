import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { Disposables, waitFor } from '@dream/common/testing';
import type { Gateway } from '../src/server';
import { api, signup } from './client/api';
import { gqlWsClient, rawSocket, subscribe, within } from './client/ws-clients';
import { Stack, gql, waitForPool } from './helpers';

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
  const stack = new Stack({ subgraphEnv: { LOGIN_MAX_ATTEMPTS: '3', SIGNUP_MAX_PER_WINDOW: '40' } });
  const d = new Disposables();
  let gw: Gateway;
  const bearer = (jwt: string) => ({ authorization: `Bearer ${jwt}` });

  beforeAll(async () => {
    await stack.start();
    await stack.addUsers();
    await stack.addCourses();
    gw = await stack.gateway();
    await gw.ready();
    await waitFor(() => gw.supergraph.subgraphs.length === 2, { what: 'both subgraphs composed' });
    await waitForPool(gw, 'courses', 1);
  });
  afterAll(async () => {
    await d.disposeAll();
    await stack.stop();
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
      const a = rawSocket(d, g, '/courses', { headers: bearer(student.jwt) });
      const b = rawSocket(d, g, '/courses', { headers: bearer(student.jwt) });
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
      const c1 = gqlWsClient(d, g);
      const c2 = gqlWsClient(d, g);
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
      const client = gqlWsClient(d, gw);
      const sub = subscribe(client, `subscription { courseUpdated(id: "${id}") { id name owner { username } } }`);
      await waitFor(() => gw.clientSurface.graphqlWs.activeSubscriptions >= 1, { what: 'the subscription' });
      await gw.clientSurface.events.ready();
      const { Redis } = await import('ioredis');
      const pub = new Redis(stack.redis.url);
      d.defer(() => pub.disconnect());
      const event = JSON.stringify({ courseId: id, ownerId: owner.id, category: 'burst' });
      const p = pub.pipeline();
      for (let i = 0; i < 1000; i++) p.publish('course.updated', event);
      await p.exec();
      await sub.inbox.take((v) => !!v.data, 10_000, 'a delivered event');
      await waitFor(() => gw.clientSurface.graphqlWs.droppedEvents > 0, { timeoutMs: 10_000, what: 'events dropped past the backlog' });
      // far fewer deliveries than events: the backlog was bounded
      await waitFor(async () => (await gql(gw, '{ categories }')).status === 200, { what: 'the gateway to answer' });
      expect(sub.inbox.values.length).toBeLessThan(1000);
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
      const list = rawSocket(d, gw, '/courses', { headers: bearer(student.jwt) });
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
