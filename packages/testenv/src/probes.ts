import { fetchBody, metricValue, postGraphql, waitFor, type GqlRequest, type GqlResult } from '@dream/common/testing';
import { connect } from 'node:net';
import type { Gateway } from '../../../gateway/src/server';

/** One operation against a gateway (or anything serving /graphql under `url`). */
export function gql(gw: { url: string }, query: string, opts: GqlRequest = {}): Promise<GqlResult> {
  return postGraphql(`${gw.url}/graphql`, query, opts);
}

/** Status and body (JSON when it parses, else text such as /metrics). */
export const getJson = (url: string) => fetchBody(url);

/** The GraphQL requests a subgraph served, from its own /metrics (`base` = http://host:port). */
export async function servedAt(base: string): Promise<number> {
  const { status, body } = await getJson(`${base}/metrics`);
  if (status !== 200) throw new Error(`${base}/metrics answered ${status}`);
  return metricValue(String(body), 'subgraph_graphql_requests_total');
}

/** The replica's own count of GraphQL requests it served (from its /metrics). */
export function servedBy(r: { url: string }): Promise<number> {
  return servedAt(r.url.replace(/\/graphql$/, ''));
}

/** Waits until the gateway's pool for `service` lists exactly `n` instances. */
export function waitForPool(gw: Gateway, service: string, n: number, timeoutMs = 5000) {
  return waitFor(() => gw.pools.has(service) && gw.pools.get(service).size === n, { timeoutMs, what: `${service} pool of ${n}` });
}

export const breakerOf = (gw: Gateway, service: string, url: string) =>
  gw.pools.get(service).status().find((s) => s.url === url)?.state;

/** True when something accepts TCP connections on 127.0.0.1:port (a leftover check after stop). */
export const listening = (port: number) =>
  new Promise<boolean>((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });
