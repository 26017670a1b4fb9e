import { createServer, type Server } from 'node:http';
import { closeServer, listen } from '@dream/common';
import { waitFor } from '@dream/common/testing';
import { useStack, breakerOf, gql, servedBy, waitForPool } from './helpers';
import type { Gateway } from '../src/server';

jest.setTimeout(60000);

/**
 * A "courses" instance that answers its SDL (copied from a real replica) but never answers
 * anything else: only the gateway's upstream timeout can get a request out of it.
 */
async function hangingReplica(sdl: string): Promise<{ server: Server; url: string; hung: number }> {
  const state = { hung: 0 };
  const server = createServer((req, res) => {
    if (req.url === '/health') {
      res.writeHead(503).end();
      return;
    }
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      if (body.includes('_service')) {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ data: { _service: { sdl } } }));
      } else {
        state.hung++; // never answered
      }
    });
  });
  const port = await listen(server, 0, '127.0.0.1');
  return Object.assign(state, { server, url: `http://127.0.0.1:${port}/graphql` });
}

describe('upstream timeouts', () => {
  const stack = useStack();
  let gw: Gateway;

  beforeAll(async () => {
    await stack.addUsers();
    await stack.addCourses();
    gw = await stack.gateway({ UPSTREAM_TIMEOUT_MS: '300', BREAKER_COOLDOWN_MS: '60000' });
    await gw.ready();
    await waitFor(() => gw.supergraph.subgraphs.length === 2, { what: 'both subgraphs composed' });
  });

  it('a replica that never answers costs a timeout and a retry, never a failed query, and its breaker opens', async () => {
    const sdl = (await stack.courses[0].gql('{ _service { sdl } }')).body.data!._service.sdl as string;
    const hanging = await hangingReplica(sdl);
    stack.d.push(hanging.server, (s) => {
      s.closeAllConnections();
      return closeServer(s);
    });
    const reg = await stack.client.register({ service: 'courses', url: hanging.url }, { heartbeatMs: 500 });
    stack.d.defer(() => reg.deregister());
    await waitForPool(gw, 'courses', 2);

    const a0 = await servedBy(stack.courses[0]);
    // distinct caller-sent request ids: identical in-flight queries would otherwise be merged into one fetch
    const results = await Promise.all(Array.from({ length: 8 }, (_, i) => gql(gw, '{ categories }', { headers: { 'x-request-id': `hang-${i}` } })));
    for (const r of results) {
      expect(r.status).toBe(200);
      expect(r.body.errors).toBeUndefined();
    }
    await waitFor(() => breakerOf(gw, 'courses', hanging.url) === 'open', { timeoutMs: 5000, what: 'breaker of the hanging replica to open' });
    expect(hanging.hung).toBeGreaterThanOrEqual(3);
    expect((await servedBy(stack.courses[0])) - a0).toBeGreaterThanOrEqual(8);
    // open: requests go straight to the healthy replica, no more waiting for timeouts
    const hung = hanging.hung;
    for (let i = 0; i < 5; i++) expect((await gql(gw, '{ categories }')).status).toBe(200);
    expect(hanging.hung).toBe(hung);
  });
});
