import { Agent } from 'undici';

/** A transport failure or a non-GraphQL answer: counts against the instance's breaker. */
export class UpstreamError extends Error {
  constructor(
    message: string,
    readonly code: string,
    readonly status?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'UpstreamError';
  }
}

/**
 * A GraphQL answer that says the instance itself is failing: HTTP 5xx, or no data with a
 * SERVICE_UNAVAILABLE / INTERNAL_SERVER_ERROR error. Thrown inside the breaker so it counts as a
 * failure of that instance (and a query is retried on another replica); `answer` is what the client
 * gets when no other replica does better.
 */
export class FailingAnswer extends UpstreamError {
  constructor(
    readonly answer: { status: number; json: Record<string, unknown>; text: string },
    origin: string,
  ) {
    super(`${origin} answered ${answer.status} with a failure`, 'FAILING_ANSWER', answer.status);
    this.name = 'FailingAnswer';
  }
}

const FAILURE_CODES = new Set(['SERVICE_UNAVAILABLE', 'INTERNAL_SERVER_ERROR']);

/** Does this answer mean the instance failed (rather than the request being refused)? */
export function isFailingAnswer(status: number, json: Record<string, unknown>): boolean {
  if (status >= 500) return true;
  if (json.data !== null && json.data !== undefined) return false;
  const errors = json.errors;
  return Array.isArray(errors) && errors.some((e) => FAILURE_CODES.has((e as { extensions?: { code?: unknown } })?.extensions?.code as string));
}

interface Target {
  origin: string;
  path: string;
}

/**
 * The gateway's one HTTP client for subgraphs: undici with a keep-alive Agent (connections are
 * reused across requests) and a timeout on every call (headers and body each bounded).
 */
export class UpstreamClient {
  readonly agent: Agent;
  private readonly targets = new Map<string, Target>();

  constructor(readonly timeoutMs: number) {
    this.agent = new Agent({
      keepAliveTimeout: 30_000,
      keepAliveMaxTimeout: 60_000,
      connect: { timeout: Math.min(timeoutMs, 2000) },
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
    });
  }

  private target(url: string): Target {
    let t = this.targets.get(url);
    if (!t) {
      const u = new URL(url);
      t = { origin: u.origin, path: `${u.pathname}${u.search}` };
      if (this.targets.size > 1000) this.targets.clear();
      this.targets.set(url, t);
    }
    return t;
  }

  /**
   * POSTs a GraphQL request and returns the parsed response. Throws UpstreamError for transport
   * failures, timeouts and answers that are not a GraphQL response (e.g. a proxy's 502 page), and
   * FailingAnswer for a GraphQL answer that reports the instance failing (5xx, or null data with
   * SERVICE_UNAVAILABLE / INTERNAL_SERVER_ERROR); other errors (4xx, partial data) are returned as values.
   */
  async postGraphQL(url: string, body: string, headers: Record<string, string>): Promise<{ status: number; json: Record<string, unknown>; text: string }> {
    const { origin, path } = this.target(url);
    let res;
    try {
      res = await this.agent.request({ origin, path, method: 'POST', headers, body });
    } catch (err) {
      const code = (err as { code?: string }).code ?? 'UPSTREAM_ERROR';
      throw new UpstreamError(`${code} from ${origin}`, code, undefined, { cause: err });
    }
    let text: string;
    try {
      text = await res.body.text();
    } catch (err) {
      const code = (err as { code?: string }).code ?? 'UPSTREAM_ERROR';
      throw new UpstreamError(`${code} reading the answer of ${origin}`, code, res.statusCode, { cause: err });
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    if (!json || typeof json !== 'object' || (!('data' in json) && !('errors' in json))) {
      throw new UpstreamError(`${origin} answered ${res.statusCode} without a GraphQL response`, 'BAD_UPSTREAM_RESPONSE', res.statusCode);
    }
    const answer = { status: res.statusCode, json: json as Record<string, unknown>, text };
    if (isFailingAnswer(answer.status, answer.json)) throw new FailingAnswer(answer, origin);
    return answer;
  }

  /** GET <base>/health: resolves on 2xx; used as the breaker's half-open probe. */
  async health(graphqlUrl: string): Promise<void> {
    const { origin } = this.target(graphqlUrl);
    let res;
    try {
      res = await this.agent.request({ origin, path: '/health', method: 'GET' });
    } catch (err) {
      const code = (err as { code?: string }).code ?? 'UPSTREAM_ERROR';
      throw new UpstreamError(`${code} from ${origin}/health`, code, undefined, { cause: err });
    }
    await res.body.dump();
    if (res.statusCode < 200 || res.statusCode >= 300) {
      throw new UpstreamError(`${origin}/health answered ${res.statusCode}`, 'UNHEALTHY', res.statusCode);
    }
  }

  close(): Promise<void> {
    return this.agent.close();
  }
}
