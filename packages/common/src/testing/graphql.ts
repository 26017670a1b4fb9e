/** What a GraphQL-over-HTTP request answered: the status, the headers and the parsed body. */
export interface GqlResult {
  status: number;
  headers: Headers;
  body: {
    data?: Record<string, any> | null;
    errors?: Array<{ message: string; extensions?: Record<string, any> }>;
  };
}

export interface GqlRequest {
  variables?: Record<string, unknown>;
  headers?: Record<string, string>;
  /** Sent as `authorization: Bearer <token>`. */
  token?: string;
  timeoutMs?: number;
}

/** POSTs one operation to a GraphQL endpoint (the full URL, e.g. http://127.0.0.1:PORT/graphql). */
export async function postGraphql(endpoint: string, query: string, req: GqlRequest = {}): Promise<GqlResult> {
  const res = await fetch(endpoint, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(req.token ? { authorization: `Bearer ${req.token}` } : {}),
      ...req.headers,
    },
    body: JSON.stringify({ query, variables: req.variables }),
    signal: AbortSignal.timeout(req.timeoutMs ?? 15_000),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: JSON.parse(text) as GqlResult['body'] };
}

/** The first error's extensions.code, if any. */
export const errorCode = (r: GqlResult): unknown => r.body.errors?.[0]?.extensions?.code;

/** The first error; throws when the answer had none. */
export function firstError(r: GqlResult): { message: string; extensions?: Record<string, any> } {
  const e = r.body.errors?.[0];
  if (!e) throw new Error(`expected an error, got ${JSON.stringify(r.body)}`);
  return e;
}
