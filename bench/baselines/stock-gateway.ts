/**
 * Baseline: stock @apollo/gateway as a user would set it up — its default RemoteGraphQLDataSource
 * (one URL per subgraph, from the supergraph's join__graph URLs), served by @apollo/server's
 * standalone server. The only addition is forwarding `x-request-id` (the documented
 * willSendRequest hook), so the `unique` workload carries a per-request header to subgraphs.
 * Env: PORT, SUPERGRAPH_FILE.
 */
import { readFileSync } from 'node:fs';
import { ApolloGateway, RemoteGraphQLDataSource } from '@apollo/gateway';
import { ApolloServer } from '@apollo/server';
import { startStandaloneServer } from '@apollo/server/standalone';

interface Ctx {
  requestId?: string;
}

class ForwardingDataSource extends RemoteGraphQLDataSource<Ctx> {
  override willSendRequest({ request, context }: Parameters<NonNullable<RemoteGraphQLDataSource<Ctx>['willSendRequest']>>[0]) {
    if (context.requestId) request.http?.headers.set('x-request-id', context.requestId);
  }
}

async function main() {
  const supergraphSdl = readFileSync(process.env.SUPERGRAPH_FILE!, 'utf8');
  const gateway = new ApolloGateway({ supergraphSdl, buildService: ({ url }) => new ForwardingDataSource({ url }) });
  const server = new ApolloServer<Ctx>({ gateway });
  await startStandaloneServer(server, {
    listen: { port: Number(process.env.PORT), host: '127.0.0.1' },
    context: async ({ req }) => ({ requestId: req.headers['x-request-id'] as string | undefined }),
  });
  process.on('SIGTERM', () => void server.stop().finally(() => process.exit(0)));
}

void main();
