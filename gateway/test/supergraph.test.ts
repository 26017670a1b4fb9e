import { buildSubgraphSchema } from '@apollo/subgraph';
import { parse } from 'graphql';
import { createLogger } from '@dream/common';
import { startSubgraphServer, type SubgraphServer } from '@dream/common/subgraph';
import { waitFor, waitForEvent } from '@dream/common/testing';
import { useStack, Stack, gql, waitForPool } from './helpers';
import type { Gateway } from '../src/server';

jest.setTimeout(60000);

/** A throwaway subgraph with the given SDL, registered with discovery under `service`. */
async function tinySubgraph(stack: Stack, service: string, sdl: string, resolvers: Record<string, Record<string, () => unknown>>) {
  const server: SubgraphServer = await startSubgraphServer({
    name: service,
    schema: buildSubgraphSchema({ typeDefs: parse(sdl), resolvers: resolvers as never }),
    port: 0,
    host: '127.0.0.1',
    logger: createLogger(service, { level: 'silent' }),
    context: async () => ({}),
  });
  const registration = await stack.client.register({ service, url: server.url }, { heartbeatMs: 500 });
  const stop = async () => {
    await registration.deregister();
    await server.stop();
  };
  stack.d.defer(stop);
  return { server, registration, stop };
}

describe('supergraph manager', () => {
  const stack = useStack();
  let gw: Gateway;
  let composed = 0;

  beforeAll(async () => {
    await stack.addUsers();
    await stack.addCourses();
    // this suite registers throwaway subgraphs too
    gw = await stack.gateway({ SUBGRAPHS: 'users,courses,greetings,bogus' });
    gw.supergraph.on('composed', () => composed++);
    await gw.ready();
    await waitFor(() => gw.supergraph.subgraphs.length === 2, { what: 'both subgraphs composed' });
  });

  it('only updates pools when instances of an unchanged subgraph come and go', async () => {
    const before = composed;
    const sdl = gw.supergraph.supergraphSdl;
    const extra = await stack.addCourses();
    await waitForPool(gw, 'courses', 2);
    await extra.registration!.deregister();
    await waitForPool(gw, 'courses', 1);
    expect(composed).toBe(before);
    expect(gw.supergraph.supergraphSdl).toBe(sdl);
    expect((await gql(gw, '{ categories }')).status).toBe(200);
  });

  it('recomposes when a subgraph appears or its SDL changes, without a restart', async () => {
    const hello = await tinySubgraph(stack, 'greetings', 'type Query { hello: String }', { Query: { hello: () => 'hi' } });
    await waitFor(() => gw.supergraph.subgraphs.includes('greetings'), { what: 'greetings composed' });
    await waitFor(async () => (await gql(gw, '{ hello }')).body.data?.hello === 'hi', { what: 'gateway serving the new field' });

    // a new version of the subgraph (new instance, changed SDL) replaces the old one
    await tinySubgraph(stack, 'greetings', 'type Query { hello: String bye: String }', { Query: { hello: () => 'hi', bye: () => 'bye' } });
    await hello.stop();
    await waitFor(async () => (await gql(gw, '{ bye }')).body.data?.bye === 'bye', { what: 'gateway serving the changed SDL' });
  });

  it('refuses a supergraph that fails to compose and keeps serving the last good one', async () => {
    const sdl = gw.supergraph.supergraphSdl;
    const rejected = waitForEvent<string[]>(gw.supergraph, 'rejected', { timeoutMs: 5000 });
    await tinySubgraph(stack, 'bogus', 'type Query { hello: Int }', { Query: { hello: () => 1 } });
    const errors = await rejected;
    expect(errors.join('\n')).toMatch(/hello/);
    expect(gw.supergraph.supergraphSdl).toBe(sdl);
    const r = await gql(gw, '{ hello categories }');
    expect(r.body.errors).toBeUndefined();
    expect(r.body.data?.hello).toBe('hi');
  });
});
