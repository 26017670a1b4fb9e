/** One GraphQL request to the gateway for the launcher's scripts (demo data): the data, or an error naming the first GraphQL error. */
export async function gatewayGraphql<T>(
  gatewayUrl: string,
  query: string,
  variables: Record<string, unknown>,
  { jwt, timeoutMs = 15_000, what }: { jwt?: string; timeoutMs?: number; what: string },
): Promise<T> {
  const res = await fetch(`${gatewayUrl}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(jwt ? { authorization: `Bearer ${jwt}` } : {}) },
    body: JSON.stringify({ query, variables }),
    signal: AbortSignal.timeout(timeoutMs),
  });
  const body = (await res.json()) as { data?: T; errors?: Array<{ message: string; extensions?: { code?: string } }> };
  if (body.errors?.length || !body.data) {
    const e = body.errors?.[0];
    throw new Error(`${what}: ${e ? `${e.extensions?.code ?? 'ERROR'}: ${e.message}` : `HTTP ${res.status}`}`);
  }
  return body.data;
}
