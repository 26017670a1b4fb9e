import type { ApolloServerPlugin } from '@apollo/server';
import type { GatewayContext } from '../context';

/** Response header naming the subgraphs an answer was partly served for from expired cache entries. */
export const STALE_HEADER = 'x-cache-stale';

/**
 * An answer that used expired entries (a subgraph could not answer) says so: `extensions.cacheStale`
 * lists the subgraphs, and the STALE_HEADER names them, so clients and proxies can tell (and not
 * store it).
 */
export const staleMarkerPlugin: ApolloServerPlugin<GatewayContext> = {
  async requestDidStart() {
    return {
      async willSendResponse({ response, contextValue }) {
        const from = contextValue.staleFrom;
        if (!from?.size || response.body.kind !== 'single') return;
        const subgraphs = [...from].sort();
        const result = response.body.singleResult;
        result.extensions = { ...result.extensions, cacheStale: { subgraphs, reason: 'SUBGRAPH_UNAVAILABLE' } };
        response.http.headers.set(STALE_HEADER, subgraphs.join(', '));
        response.http.headers.set('cache-control', 'no-store');
      },
    };
  },
};
