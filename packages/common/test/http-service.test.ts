import { AppError, createLogger } from '../src';
import { readJson, Router, sendJson, startHttpService, type HttpService } from '../src/http-service';
import { Disposables, fetchBody } from '../src/testing';

const d = new Disposables();
afterAll(() => d.disposeAll());

let svc: HttpService;
beforeAll(async () => {
  const router = new Router()
    .add('POST', '/echo', async (req, res) => sendJson(res, 200, await readJson(req, 64)))
    .add('*', '/any', (_req, res, ctx) => sendJson(res, 200, { path: ctx.path, requestId: ctx.requestId }))
    .add('GET', '/conflict', () => {
      throw new AppError('CONFLICT', 'Already there.', { fields: [{ field: 'name', message: 'taken' }] });
    })
    .add('GET', '/bug', () => {
      throw new Error('secret internals');
    })
    .addPrefix('GET', '/items/', (_req, res, ctx) => sendJson(res, 200, { id: ctx.path.slice('/items/'.length) }));
  svc = d.push(
    await startHttpService({
      port: 0,
      host: '127.0.0.1',
      logger: createLogger('http-test', { level: 'silent' }),
      router,
      health: async () => ({ ok: false, reason: 'store down' }),
      unexpectedError: () => new AppError('SERVICE_UNAVAILABLE', 'Store unavailable.'),
    }),
    (s) => s.stop(),
  );
});

test('routes by exact path and method, by prefix, and answers 404 as JSON otherwise', async () => {
  expect(await fetchBody(`${svc.base}/any?x=1`, { method: 'DELETE', headers: { 'x-request-id': 'req-1' } })).toEqual({ status: 200, body: { path: '/any', requestId: 'req-1' } });
  expect(await fetchBody(`${svc.base}/items/42`)).toEqual({ status: 200, body: { id: '42' } });
  expect(await fetchBody(`${svc.base}/echo`)).toEqual({ status: 404, body: { error: { code: 'NOT_FOUND', message: 'No route for GET /echo.' } } });
});

test('every answer carries the request id and the security headers', async () => {
  const res = await fetch(`${svc.base}/nowhere`);
  expect(res.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  expect(res.headers.get('x-content-type-options')).toBe('nosniff');
  expect(res.headers.get('content-security-policy')).toContain("default-src 'none'");
});

test('errors are the JSON body built from AppError; others go through unexpectedError, never a stack', async () => {
  expect(await fetchBody(`${svc.base}/conflict`)).toEqual({
    status: 409,
    body: { error: { code: 'CONFLICT', message: 'Already there.', field: 'name', fields: [{ field: 'name', message: 'taken' }] } },
  });
  const bug = await fetchBody(`${svc.base}/bug`);
  expect(bug).toEqual({ status: 503, body: { error: { code: 'SERVICE_UNAVAILABLE', message: 'Store unavailable.' } } });
  expect(JSON.stringify(bug.body)).not.toContain('secret');
});

test('the body reader refuses more than its limit (413) and malformed JSON (400)', async () => {
  const post = (body: string) => fetchBody(`${svc.base}/echo`, { method: 'POST', body });
  expect(await post('{"a":1}')).toEqual({ status: 200, body: { a: 1 } });
  expect((await post(JSON.stringify({ a: 'x'.repeat(100) }))).status).toBe(413);
  expect((await post('{nope')).body.error).toEqual({ code: 'BAD_USER_INPUT', message: 'Request body is not valid JSON.' });
});

test('health answers 500 with the reason when not ok', async () => {
  expect(await fetchBody(`${svc.base}/health`)).toEqual({ status: 500, body: { status: 'down', reason: 'store down' } });
});
