import type { IncomingMessage, ServerResponse } from 'node:http';
import { HeaderMap, type ApolloServer, type BaseContext, type HTTPGraphQLResponse } from '@apollo/server';
import { readBody } from './http';

/** A GraphQL HTTP request as read: the parsed JSON body (POST) and the query string (GET). */
export interface GraphQLHttpParams {
  method: string;
  body: unknown;
  search: string;
}

/**
 * Runs one HTTP request through an ApolloServer on plain node:http (no Express in the hot path).
 * The body is read with a size limit; a too-large body throws AppError PAYLOAD_TOO_LARGE.
 * `prepare` may rewrite the request before Apollo sees it (or throw an AppError to refuse it).
 */
export async function handleGraphQLHttp<Ctx extends BaseContext>(
  apollo: ApolloServer<Ctx>,
  req: IncomingMessage,
  res: ServerResponse,
  context: () => Promise<Ctx>,
  maxBodyBytes: number,
  prepare?: (params: GraphQLHttpParams) => GraphQLHttpParams,
): Promise<void> {
  const headers = new HeaderMap();
  for (const [k, v] of Object.entries(req.headers)) {
    if (v !== undefined) headers.set(k, Array.isArray(v) ? v.join(', ') : v);
  }
  let body: unknown = undefined;
  if (req.method === 'POST') {
    const raw = await readBody(req, maxBodyBytes);
    const type = headers.get('content-type') ?? '';
    if (type.includes('application/json')) {
      try {
        body = raw.length ? JSON.parse(raw.toString('utf8')) : undefined;
      } catch {
        body = raw.toString('utf8'); // Apollo answers 400 for a non-object body
      }
    } else {
      body = raw.toString('utf8');
    }
  }
  const url = new URL(req.url ?? '/', 'http://localhost');
  let params: GraphQLHttpParams = { method: req.method ?? 'GET', body, search: url.search };
  if (prepare) params = prepare(params);
  const response = await apollo.executeHTTPGraphQLRequest({
    httpGraphQLRequest: { method: params.method, headers, search: params.search, body: params.body },
    context,
  });
  await writeApolloResponse(res, response);
}

async function writeApolloResponse(res: ServerResponse, response: HTTPGraphQLResponse): Promise<void> {
  for (const [k, v] of response.headers) res.setHeader(k, v);
  res.statusCode = response.status ?? 200;
  if (response.body.kind === 'complete') {
    res.end(response.body.string);
    return;
  }
  for await (const chunk of response.body.asyncIterator) res.write(chunk);
  res.end();
}
