/**
 * Traces: with OTEL_EXPORTER_OTLP_ENDPOINT set, `npm start`'s real services export spans over OTLP/HTTP
 * to a receiver this test runs, and one purchase through the gateway is ONE trace whose spans go
 * gateway → users (HTTP) → gRPC → courses, with the request id on the server spans. Unset: off.
 */
import { createServer, type Server } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRedisServer, waitFor, type RedisServerHandle } from '@dream/common/testing';
import { startTracing } from '@dream/common/tracing';
import { startNpmStart, type NpmStart } from './npm-start';

jest.setTimeout(240_000);

interface Span {
  service: string;
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number; // 2 server, 3 client
  attributes: Record<string, unknown>;
}
interface OtlpJson {
  resourceSpans: Array<{
    resource: { attributes: Array<{ key: string; value: { stringValue?: string } }> };
    scopeSpans: Array<{
      spans: Array<{
        traceId: string;
        spanId: string;
        parentSpanId?: string;
        name: string;
        kind: number;
        attributes?: Array<{ key: string; value: Record<string, unknown> }>;
      }>;
    }>;
  }>;
}

/** A minimal OTLP/HTTP (JSON) trace receiver: POST /v1/traces. */
function receiver(spans: Span[]): Server {
  return createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    req.on('end', () => {
      if (req.method === 'POST' && req.url === '/v1/traces' && String(req.headers['content-type']).includes('json')) {
        const doc = JSON.parse(body) as OtlpJson;
        for (const rs of doc.resourceSpans) {
          const service = rs.resource.attributes.find((a) => a.key === 'service.name')?.value.stringValue ?? '?';
          for (const ss of rs.scopeSpans) {
            for (const s of ss.spans) {
              const attributes = Object.fromEntries((s.attributes ?? []).map((a) => [a.key, Object.values(a.value)[0]]));
              spans.push({ service, traceId: s.traceId, spanId: s.spanId, parentSpanId: s.parentSpanId || undefined, name: s.name, kind: s.kind, attributes });
            }
          }
        }
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      } else {
        res.writeHead(415).end();
      }
    });
  });
}

describe('tracing', () => {
  let redis: RedisServerHandle;
  let dir: string;
  let launcher: NpmStart | undefined;
  let otlp: Server;
  const spans: Span[] = [];

  beforeAll(async () => {
    redis = await startRedisServer();
    dir = mkdtempSync(join(tmpdir(), 'tracing-'));
    otlp = receiver(spans);
    await new Promise<void>((r) => otlp.listen(0, '127.0.0.1', r));
  });
  afterAll(async () => {
    await launcher?.stop();
    await new Promise((r) => otlp.close(r));
    await redis?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('is off without OTEL_EXPORTER_OTLP_ENDPOINT, and a bad endpoint is refused with the variable named', () => {
    expect(startTracing('test', {})).toBe(false);
    expect(() => startTracing('test', { OTEL_EXPORTER_OTLP_ENDPOINT: 'not a url' })).toThrow(/OTEL_EXPORTER_OTLP_ENDPOINT/);
  });

  it('one purchase through the gateway is one trace: gateway → users → gRPC → courses', async () => {
    launcher = await startNpmStart({
      redisUrl: redis.url,
      dir,
      env: {
        LOG_LEVEL: 'warn',
        SEED_DEMO: 'false',
        OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${(otlp.address() as { port: number }).port}`,
        OTEL_BSP_SCHEDULE_DELAY: '200',
      },
    });
    await launcher.up;
    const gateway = launcher.gateway;

    const gql = async (query: string, variables: Record<string, unknown>, headers: Record<string, string> = {}) => {
      const res = await fetch(`${gateway}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify({ query, variables }),
      });
      const body = (await res.json()) as { data?: Record<string, { jwt?: string; id?: string; message?: string }>; errors?: unknown };
      expect(body.errors).toBeUndefined();
      return body.data!;
    };
    const signup = 'mutation S($i: SignupInput!) { signup(input: $i) { jwt } }';
    const owner = (await gql(signup, { i: { username: 'trace-owner', password: 'correct horse', email: 'to@example.org', roles: ['OWNER'] } })).signup.jwt!;
    const student = (await gql(signup, { i: { username: 'trace-student', password: 'correct horse', email: 'ts@example.org', roles: ['STUDENT'] } })).signup.jwt!;
    const course = (
      await gql('mutation C($i: CreateCourseInput!) { createCourse(input: $i) { id } }', { i: { name: 'Traced', info: 'x', category: 'Ops', price: 5 } }, {
        authorization: `Bearer ${owner}`,
      })
    ).createCourse.id!;

    const requestId = 'trace-test-purchase-1';
    const bought = await gql('mutation B($c: ID!) { buyCourse(courseId: $c) { message } }', { c: course }, {
      authorization: `Bearer ${student}`,
      'x-request-id': requestId,
    });
    expect(bought.buyCourse.message).toBe('Student bought course using gRPC.');

    // the gateway's server span carries the request id; everything of that request shares its trace
    const root = await waitFor(() => spans.find((s) => s.service === 'gateway' && s.kind === 2 && s.attributes['request.id'] === requestId), {
      timeoutMs: 30_000,
      what: 'the gateway server span of the purchase',
    });
    const inTrace = () => spans.filter((s) => s.traceId === root.traceId);
    const has = (service: string, kind: number, name?: RegExp) => inTrace().some((s) => s.service === service && s.kind === kind && (!name || name.test(s.name)));
    await waitFor(
      () =>
        has('gateway', 3) && // undici fetch to the users subgraph
        has('users', 2) && // users' GraphQL server span
        has('users', 3, /PurchaseService\/BuyCourse/) && // its gRPC call
        has('courses', 2, /PurchaseService\/BuyCourse/), // and courses serving it
      { timeoutMs: 30_000, what: `gateway → users → gRPC → courses spans in trace ${root.traceId}` },
    );
    const trace = inTrace();
    // one tree: the gateway's server span is the root, every other span's parent is in the trace
    const ids = new Set(trace.map((s) => s.spanId));
    expect(root.parentSpanId).toBeUndefined();
    expect(trace.filter((s) => s !== root && !ids.has(s.parentSpanId ?? ''))).toEqual([]);
    // the request id reached the users subgraph's server span as well
    expect(trace.find((s) => s.service === 'users' && s.kind === 2)?.attributes['request.id']).toBe(requestId);
    // and the courses gRPC server span descends from the users gRPC client span
    const grpcServer = trace.find((s) => s.service === 'courses' && s.kind === 2 && /BuyCourse/.test(s.name))!;
    const byId = new Map(trace.map((s) => [s.spanId, s]));
    expect(byId.get(grpcServer.parentSpanId!)?.service).toBe('users');
  });
});
