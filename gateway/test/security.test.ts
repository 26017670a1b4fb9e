import { Disposables, waitFor } from '@dream/common/testing';
import type { Gateway } from '../src/server';
import { api, signup } from './client/api';
import { rawSocket, within } from './client/ws-clients';
import { Stack, gql, waitForPool } from './helpers';

jest.setTimeout(120_000);

/**
 * Security properties of the real topology (in-process discovery, subgraphs and gateway on free
 * ports, a private redis-server). Each describe is one class of attack; the Redis outage runs last.
 */
describe('gateway security', () => {
  const stack = new Stack();
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
