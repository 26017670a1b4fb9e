import type { GraphQLDataSource, GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import { AppError, type InstancePool, type ServiceInstance } from '@dream/common';
import type { GatewayContext } from './context';

type GatewayGraphQLResponse = Awaited<ReturnType<GraphQLDataSource['process']>>;
import type { UpstreamClient } from './upstream';

export interface DataSourceOptions {
  name: string;
  pool: () => InstancePool<ServiceInstance>;
  upstream: UpstreamClient;
  onUpstreamError?: (subgraph: string, err: unknown) => void;
}

/** The gateway's subgraph operations start with their kind; a mutation may only be retried if it never left. */
const isMutation = (query: string | undefined) => !!query && /^\s*mutation\b/.test(query);

/**
 * One data source per subgraph, routing every fetch through the subgraph's InstancePool:
 * round-robin over live instances, a breaker per instance, queries retried once on the next
 * instance, mutations only when the first attempt never reached its instance. It implements
 * GraphQLDataSource directly (not RemoteGraphQLDataSource) to keep the hot path short: one
 * JSON.stringify, one undici request on a kept-alive connection, one JSON.parse.
 */
export class PooledDataSource implements GraphQLDataSource<GatewayContext> {
  constructor(private readonly opts: DataSourceOptions) {}

  async process(options: GraphQLDataSourceProcessOptions<GatewayContext>): Promise<GatewayGraphQLResponse> {
    const { request } = options;
    const body = JSON.stringify({ query: request.query, variables: request.variables, operationName: request.operationName });
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    const ctx = options.context as Partial<GatewayContext> | undefined;
    if (ctx?.token) headers.authorization = `Bearer ${ctx.token}`;
    if (ctx?.requestId) headers['x-request-id'] = ctx.requestId;
    if (ctx?.forwardedFor) headers['x-forwarded-for'] = ctx.forwardedFor;
    const idempotent = !isMutation(request.query);
    try {
      const { json } = await this.opts.pool().execute(
        (inst) => this.opts.upstream.postGraphQL(inst.url, body, headers),
        { retryOnce: true, idempotent },
      );
      return json as GatewayGraphQLResponse;
    } catch (err) {
      this.opts.onUpstreamError?.(this.opts.name, err);
      if (err instanceof AppError) throw err;
      throw new AppError('SERVICE_UNAVAILABLE', `Service "${this.opts.name}" is unavailable.`);
    }
  }
}
