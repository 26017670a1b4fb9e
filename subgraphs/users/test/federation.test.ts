import { ApolloServer } from '@apollo/server';
import { composeServices } from '@apollo/composition';
import { ApolloGateway, RemoteGraphQLDataSource } from '@apollo/gateway';
import { parse } from 'graphql';
import { typeDefs } from '../src/service';
import { useStack } from '@dream/testenv';
import { ME, SIGNUP, newUser, type TestUsers } from './helpers';

const stack = useStack({ discovery: false });
let t: TestUsers;

beforeAll(async () => {
  t = await stack.subgraph('users');
});

describe('users through @apollo/gateway', () => {
  it('the served SDL composes into a supergraph without errors', async () => {
    const sdl = (await t.gql(`{ _service { sdl } }`)).body.data!._service.sdl as string;
    const result = composeServices([{ name: 'users', typeDefs: parse(sdl), url: t.service.url }]);
    expect(result.errors).toBeUndefined();
    expect(result.supergraphSdl).toContain('join__type(graph: USERS, key: "id")');
    // the file on disk is what is served
    expect(typeDefs).toContain('type User @key(fields: "id")');
  });

  it('signup and me work through an in-process gateway that forwards the token', async () => {
    const sdl = (await t.gql(`{ _service { sdl } }`)).body.data!._service.sdl as string;
    const { supergraphSdl } = composeServices([{ name: 'users', typeDefs: parse(sdl), url: t.service.url }]);
    type Ctx = { authorization?: string };
    const gateway = new ApolloGateway({
      supergraphSdl: supergraphSdl!,
      buildService: ({ url }) =>
        new RemoteGraphQLDataSource<Ctx>({
          url,
          willSendRequest: ({ request, context }) => {
            if (context.authorization) request.http?.headers.set('authorization', context.authorization);
          },
        }),
    });
    const server = new ApolloServer<Ctx>({ gateway });
    await server.start();
    stack.d.defer(() => server.stop());

    const run = async (query: string, variables: Record<string, unknown>, ctx: Ctx = {}) => {
      const res = await server.executeOperation({ query, variables }, { contextValue: ctx });
      if (res.body.kind !== 'single') throw new Error('incremental response');
      return res.body.singleResult;
    };
    const input = newUser();
    const signed = await run(SIGNUP, { input });
    expect(signed.errors).toBeUndefined();
    const jwt = (signed.data as { signup: { jwt: string } }).signup.jwt;
    const me = await run(ME, {}, { authorization: `Bearer ${jwt}` });
    expect(me.errors).toBeUndefined();
    expect(me.data).toMatchObject({ me: { username: input.username, email: input.email } });
  });
});
