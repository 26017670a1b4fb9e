import { Client, cacheExchange, fetchExchange, mapExchange, subscriptionExchange, type ExecutionResult } from '@urql/core';
import { persistedExchange } from '@urql/exchange-persisted';
import { createClient as createWsClient, type Client as WsClient } from 'graphql-ws';
import { isUnauthenticated } from './errors';

/** graphql-ws close code the gateway uses for a refused token (expired, revoked or forged). */
const CLOSE_UNAUTHORIZED = 4401;

export interface ApiClient {
  client: Client;
  ws: WsClient;
  dispose(): void;
}

export interface ClientOptions {
  token: string | undefined;
  /** The token was refused: expired, revoked by a log out elsewhere, or signed by another key. */
  onUnauthenticated(): void;
}

/**
 * One urql client per session (a new one on log in and log out, so no cached answer of one person
 * reaches the next). Queries and mutations go over HTTP POST as persisted-document hashes (the
 * gateway resolves them from the build's manifest and falls back to the APQ round trip when it
 * does not know them); subscriptions go over graphql-ws on the same /graphql path.
 */
export function createApiClient({ token, onUnauthenticated }: ClientOptions): ApiClient {
  const wsUrl = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/graphql`;
  const ws = createWsClient({
    url: wsUrl,
    lazy: true,
    connectionParams: token ? { jwt: token } : {},
    retryAttempts: Infinity,
    shouldRetry: (e) => !(e instanceof CloseEvent && e.code === CLOSE_UNAUTHORIZED),
    on: {
      closed: (e) => {
        if (token && e instanceof CloseEvent && e.code === CLOSE_UNAUTHORIZED) onUnauthenticated();
      },
    },
  });
  const client = new Client({
    url: '/graphql',
    exchanges: [
      mapExchange({
        onError(error) {
          if (token && isUnauthenticated(error)) onUnauthenticated();
        },
      }),
      cacheExchange,
      persistedExchange({ preferGetForPersistedQueries: false, enableForMutation: true }),
      subscriptionExchange({
        forwardSubscription: (request) => ({
          subscribe: (sink) => ({
            unsubscribe: ws.subscribe(
              { ...request, query: request.query ?? '' },
              {
                next: (v) => sink.next(v as ExecutionResult),
                complete: () => sink.complete(),
                // graphql-ws reports a closed socket as the CloseEvent itself: give urql an Error with words
                error: (e) => sink.error(e instanceof CloseEvent ? new Error(`The live connection closed (${e.code}${e.reason ? `: ${e.reason}` : ''}).`) : e),
              },
            ),
          }),
        }),
      }),
      fetchExchange,
    ],
    fetchOptions: (): RequestInit => (token ? { headers: { authorization: `Bearer ${token}` } } : {}),
  });
  return { client, ws, dispose: () => void ws.dispose() };
}
