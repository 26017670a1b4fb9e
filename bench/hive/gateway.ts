/**
 * Baseline: Hive Gateway (@graphql-hive/gateway-runtime) on node:http with the same supergraph
 * (join__graph URLs point at one replica per subgraph). HIVE_ROUTER=1 plugs in the Rust query
 * planner from @graphql-hive/router-runtime. `x-request-id` is propagated to subgraphs.
 * @graphql-mesh/transport-http must be installed (the runtime loads it for `http` subgraphs).
 * Env: PORT, SUPERGRAPH_FILE, HIVE_ROUTER.
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { createGatewayRuntime } from '@graphql-hive/gateway-runtime';
import { unifiedGraphHandler } from '@graphql-hive/router-runtime';

const supergraph = readFileSync(process.env.SUPERGRAPH_FILE!, 'utf8');
const gateway = createGatewayRuntime({
  supergraph,
  logging: false,
  ...(process.env.HIVE_ROUTER === '1' ? { unifiedGraphHandler } : {}),
  propagateHeaders: {
    fromClientToSubgraphs: ({ request }) => ({ 'x-request-id': request.headers.get('x-request-id') }),
  },
});
const server = createServer(gateway);
server.keepAliveTimeout = 65_000;
server.listen(Number(process.env.PORT), '127.0.0.1');
process.on('SIGTERM', () => {
  server.close();
  void Promise.resolve(gateway.dispose()).finally(() => process.exit(0));
});
