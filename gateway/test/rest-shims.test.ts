import Ajv2020 from 'ajv/dist/2020';
import { waitFor } from '@dream/common/testing';
import { OPENAPI_DOCUMENT } from '../src/http/openapi';
import type { Gateway } from '../src/server';
import { useStack, waitForPool } from './helpers';
import { api, recorded, signup, unique } from './client/api';

jest.setTimeout(60000);

describe('REST shims (the spec\'s endpoints through the gateway)', () => {
  const stack = useStack();
  let gw: Gateway;
  let owner: { jwt: string; id: string; username: string };
  let owner2: { jwt: string; id: string; username: string };
  let student: { jwt: string; id: string; username: string };
  const category = unique('Programming');

  beforeAll(async () => {
    await stack.addCourses();
    // users reaches courses' PurchaseService over gRPC (the harness registers HTTP URLs only)
    await stack.addUsers(stack.coursesGrpc());
    gw = await stack.gateway({ REST_MAX_BODY_BYTES: '2048' });
    await gw.ready();
    await waitFor(() => gw.supergraph.subgraphs.length === 2, { what: 'both subgraphs composed' });
    await waitForPool(gw, 'courses', 1);
    owner = await signup(gw, 'OWNER');
    owner2 = await signup(gw, ['OWNER']);
    student = await signup(gw, 'STUDENT');
  });

  describe('POST /api/user/signup', () => {
    it('answers 201 {"jwt"} exactly', async () => {
      const name = unique('golden');
      const r = await api(gw, 'POST', '/api/user/signup', {
        body: { username: name, password: 'password123', email: `${name}@example.org`, roles: 'STUDENT/OWNER' },
      });
      expect(r.status).toBe(201);
      expect(Object.keys(r.body)).toEqual(['jwt']);
      expect(typeof r.body.jwt).toBe('string');
      // both roles were granted: the token can create a course
      const c = await api(gw, 'POST', '/api/course', { jwt: r.body.jwt, body: { courseName: 'x', courseInfo: '', courseCathegory: 'c', price: 1 } });
      expect(c.status).toBe(201);
    });

    it.each([['STUDENT'], ['OWNER'], [['STUDENT', 'OWNER']], [['OWNER']]])('accepts roles %j', async (roles) => {
      const name = unique('r');
      const r = await api(gw, 'POST', '/api/user/signup', { body: { username: name, password: 'password123', email: `${name}@example.org`, roles } });
      expect(r.status).toBe(201);
    });

    it.each([['ADMIN'], [[]], [['STUDENT', 'ADMIN']], ['STUDENT/ADMIN'], [7]])('refuses roles %j with 400', async (roles) => {
      const name = unique('bad');
      const r = await api(gw, 'POST', '/api/user/signup', { body: { username: name, password: 'password123', email: `${name}@example.org`, roles } });
      expect(r.status).toBe(400);
      expect(r.body.error.code).toBe('BAD_USER_INPUT');
      expect(r.body.error.message).toMatch(/roles/);
    });

    it('answers 409 for a taken username', async () => {
      const r = await api(gw, 'POST', '/api/user/signup', {
        body: { username: owner.username, password: 'password123', email: `${unique('other')}@example.org`, roles: 'OWNER' },
      });
      expect(r.status).toBe(409);
      expect(r.body.error.code).toBe('CONFLICT');
    });

    it('answers 400 naming a missing field and for a short password (validated by the users subgraph)', async () => {
      const missing = await api(gw, 'POST', '/api/user/signup', { body: { username: unique('m'), password: 'password123', roles: 'OWNER' } });
      expect(missing.status).toBe(400);
      expect(missing.body.error.message).toMatch(/email/);
      const name = unique('s');
      const short = await api(gw, 'POST', '/api/user/signup', { body: { username: name, password: 'x', email: `${name}@example.org`, roles: 'OWNER' } });
      expect(short.status).toBe(400);
      expect(short.body.error.code).toBe('BAD_USER_INPUT');
    });
  });

  describe('POST /api/users/login', () => {
    it('answers 200 {"jwt"} exactly', async () => {
      const r = await api(gw, 'POST', '/api/users/login', { body: { username: owner.username, password: 'correct horse battery' } });
      expect(r.status).toBe(200);
      expect(Object.keys(r.body)).toEqual(['jwt']);
    });

    it('answers 429 after LOGIN_MAX_ATTEMPTS failures even when each guess claims another X-Forwarded-For', async () => {
      const victim = await signup(gw, 'STUDENT');
      for (let i = 0; i < 10; i++) {
        const r = await api(gw, 'POST', '/api/users/login', {
          body: { username: victim.username, password: `guess-number-${i}` },
          headers: { 'x-forwarded-for': `203.0.113.${i + 1}` },
        });
        expect(r.status).toBe(401);
      }
      const next = await api(gw, 'POST', '/api/users/login', {
        body: { username: victim.username, password: 'guess-number-10' },
        headers: { 'x-forwarded-for': '203.0.113.200' },
      });
      expect(next.status).toBe(429);
    });

    it('answers 401 for a wrong password and 400 for a wrong type', async () => {
      const wrong = await api(gw, 'POST', '/api/users/login', { body: { username: owner.username, password: 'nope-nope-nope' } });
      expect(wrong.status).toBe(401);
      expect(wrong.body).toEqual({ error: { code: 'UNAUTHENTICATED', message: 'Invalid username or password.' } });
      const typed = await api(gw, 'POST', '/api/users/login', { body: { username: 42, password: 'x' } });
      expect(typed.status).toBe(400);
      expect(typed.body.error.message).toMatch(/username must be a string/);
    });
  });

  describe('POST /api/course', () => {
    it('answers 201 {"response":"Course was created successfully."} with the jwt header and with Bearer', async () => {
      const body = { courseName: 'Strategy', courseInfo: 'text', courseCathegory: category, price: '123' };
      const r = await api(gw, 'POST', '/api/course', { jwt: owner.jwt, body });
      expect(r.status).toBe(201);
      expect(r.body).toEqual({ response: 'Course was created successfully.' });
      const b = await api(gw, 'POST', '/api/course', { bearer: owner.jwt, body: { ...body, courseName: 'Tactics', price: 10.5 } });
      expect(b.status).toBe(201);
      expect(b.body).toEqual({ response: 'Course was created successfully.' });
    });

    it('answers 403 for a STUDENT, 401 without or with a bad token', async () => {
      const body = { courseName: 'Nope', courseInfo: 'text', courseCathegory: category, price: 1 };
      const s = await api(gw, 'POST', '/api/course', { jwt: student.jwt, body });
      expect(s.status).toBe(403);
      expect(s.body.error.code).toBe('FORBIDDEN');
      const none = await api(gw, 'POST', '/api/course', { body });
      expect(none.status).toBe(401);
      expect(none.body.error.code).toBe('UNAUTHENTICATED');
      const bad = await api(gw, 'POST', '/api/course', { jwt: 'not.a.token', body });
      expect(bad.status).toBe(401);
    });

    it('answers 400 for malformed JSON, wrong types and missing fields, naming the field', async () => {
      const malformed = await api(gw, 'POST', '/api/course', { jwt: owner.jwt, raw: '{"courseName": "x",', template: '/api/course' });
      expect(malformed.status).toBe(400);
      expect(malformed.body).toEqual({ error: { code: 'BAD_USER_INPUT', message: 'Request body is not valid JSON.' } });
      const typed = await api(gw, 'POST', '/api/course', { jwt: owner.jwt, body: { courseName: 'x', courseInfo: 'y', courseCathegory: 'c', price: true } });
      expect(typed.status).toBe(400);
      expect(typed.body.error.message).toMatch(/^price must be a number or a numeric string/);
      const missing = await api(gw, 'POST', '/api/course', { jwt: owner.jwt, body: { courseInfo: 'y', price: 1 } });
      expect(missing.status).toBe(400);
      expect(missing.body.error.message).toMatch(/courseName is required/);
      expect(missing.body.error.message).toMatch(/courseCathegory is required/);
      const array = await api(gw, 'POST', '/api/course', { jwt: owner.jwt, body: [1, 2] });
      expect(array.status).toBe(400);
      const negative = await api(gw, 'POST', '/api/course', { jwt: owner.jwt, body: { courseName: 'x', courseInfo: 'y', courseCathegory: 'c', price: '-5' } });
      expect(negative.status).toBe(400);
      expect(negative.body.error.message).toMatch(/price|Price/);
    });

    it('answers 413 for an oversized body', async () => {
      const r = await api(gw, 'POST', '/api/course', {
        jwt: owner.jwt,
        body: { courseName: 'x', courseInfo: 'y'.repeat(10_000), courseCathegory: 'c', price: 1 },
      });
      expect(r.status).toBe(413);
      expect(r.body.error.code).toBe('PAYLOAD_TOO_LARGE');
    });
  });

  describe('GET /api/courses', () => {
    it('answers 200 [{"courseId","ownerId"}] newest first, filtered by category and ownerId', async () => {
      const cat = unique('Filter');
      await api(gw, 'POST', '/api/course', { jwt: owner.jwt, body: { courseName: 'A', courseInfo: '', courseCathegory: cat, price: 1 } });
      await api(gw, 'POST', '/api/course', { jwt: owner2.jwt, body: { courseName: 'B', courseInfo: '', courseCathegory: cat, price: 2 } });
      const r = await api(gw, 'GET', `/api/courses?category=${encodeURIComponent(cat.toUpperCase())}`, { jwt: student.jwt });
      expect(r.status).toBe(200);
      expect(r.body).toHaveLength(2);
      for (const item of r.body) expect(Object.keys(item).sort()).toEqual(['courseId', 'ownerId']);
      expect(r.body.map((c: { ownerId: string }) => c.ownerId)).toEqual([owner2.id, owner.id]);
      const mine = await api(gw, 'GET', `/api/courses?category=${cat}&ownerId=${owner.id}`, { bearer: student.jwt });
      expect(mine.body).toEqual([{ courseId: r.body[1].courseId, ownerId: owner.id }]);
      const all = await api(gw, 'GET', '/api/courses', { jwt: student.jwt });
      expect(all.body.length).toBeGreaterThanOrEqual(4);
    });

    it('answers 401 without a token', async () => {
      const r = await api(gw, 'GET', '/api/courses');
      expect(r.status).toBe(401);
    });
  });

  describe('DELETE /api/course/:courseId', () => {
    it('answers 200 {"message":"Course <id> deleted successfully."}; 404 unknown; 403 for another owner', async () => {
      const cat = unique('Del');
      await api(gw, 'POST', '/api/course', { jwt: owner.jwt, body: { courseName: 'Del', courseInfo: '', courseCathegory: cat, price: 1 } });
      const [{ courseId }] = (await api(gw, 'GET', `/api/courses?category=${cat}`, { jwt: owner.jwt })).body;
      const other = await api(gw, 'DELETE', `/api/course/${courseId}`, { jwt: owner2.jwt, template: '/api/course/{courseId}' });
      expect(other.status).toBe(403);
      expect(other.body.error.code).toBe('FORBIDDEN');
      const r = await api(gw, 'DELETE', `/api/course/${courseId}`, { jwt: owner.jwt, template: '/api/course/{courseId}' });
      expect(r.status).toBe(200);
      expect(r.body).toEqual({ message: `Course ${courseId} deleted successfully.` });
      const again = await api(gw, 'DELETE', `/api/course/${courseId}`, { jwt: owner.jwt, template: '/api/course/{courseId}' });
      expect(again.status).toBe(404);
      expect(again.body.error.code).toBe('NOT_FOUND');
      const none = await api(gw, 'DELETE', `/api/course/${courseId}`, { template: '/api/course/{courseId}' });
      expect(none.status).toBe(401);
    });
  });

  describe('POST /api/student-service/course/subscribe', () => {
    const path = '/api/student-service/course/subscribe';
    it('answers 200 {"status":"success","courseId","message":"Joined course."}', async () => {
      const cat = unique('Lobby');
      await api(gw, 'POST', '/api/course', { jwt: owner.jwt, body: { courseName: 'L', courseInfo: '', courseCathegory: cat, price: 1 } });
      const [{ courseId }] = (await api(gw, 'GET', `/api/courses?category=${cat}`, { jwt: owner.jwt })).body;
      const r = await api(gw, 'POST', path, { jwt: student.jwt, body: { cathegory: cat, userId: student.id } });
      expect(r.status).toBe(200);
      expect(r.body).toEqual({ status: 'success', courseId, message: 'Joined course.' });
      // nothing left to join in that category
      const again = await api(gw, 'POST', path, { jwt: student.jwt, body: { cathegory: cat, userId: student.id } });
      expect(again.status).toBe(404);
    });

    it('answers 403 when userId is not the caller or the caller is not a STUDENT, 400 for a missing cathegory', async () => {
      const r = await api(gw, 'POST', path, { jwt: student.jwt, body: { cathegory: category, userId: owner.id } });
      expect(r.status).toBe(403);
      const o = await api(gw, 'POST', path, { jwt: owner.jwt, body: { cathegory: category, userId: owner.id } });
      expect(o.status).toBe(403);
      const m = await api(gw, 'POST', path, { jwt: student.jwt, body: { category, userId: student.id } });
      expect(m.status).toBe(400);
      expect(m.body.error.message).toMatch(/cathegory is required/);
    });
  });

  describe('POST /courses/:courseId/buy', () => {
    it('answers 200 {"message":"Student bought course using gRPC."}, idempotently', async () => {
      // the supergraph must carry the purchase: a missing buyCourse fails here instead of skipping the test
      expect(Object.keys(gw.gateway.schema?.getMutationType()?.getFields() ?? {})).toContain('buyCourse');
      const cat = unique('Buy');
      await api(gw, 'POST', '/api/course', { jwt: owner.jwt, body: { courseName: 'Buy me', courseInfo: '', courseCathegory: cat, price: 5 } });
      const [{ courseId }] = (await api(gw, 'GET', `/api/courses?category=${cat}`, { jwt: owner.jwt })).body;
      const r = await api(gw, 'POST', `/courses/${courseId}/buy`, { jwt: student.jwt, body: { userId: student.id, courseId }, template: '/courses/{courseId}/buy' });
      expect({ status: r.status, body: r.body }).toEqual({ status: 200, body: { message: 'Student bought course using gRPC.' } });
      const again = await api(gw, 'POST', `/courses/${courseId}/buy`, { jwt: student.jwt, body: { userId: student.id, courseId }, template: '/courses/{courseId}/buy' });
      expect(again.status).toBe(200);
      expect(again.body).toEqual({ message: 'Student bought course using gRPC.' });
      const unknown = await api(gw, 'POST', `/courses/nope-${courseId}/buy`, { jwt: student.jwt, body: { userId: student.id }, template: '/courses/{courseId}/buy' });
      expect(unknown.status).toBe(404);
    });

    it('answers 403 when userId is not the caller, 400 for a courseId that differs from the path, 401 without a token', async () => {
      const t = '/courses/{courseId}/buy';
      const r = await api(gw, 'POST', '/courses/c1/buy', { jwt: student.jwt, body: { userId: owner.id, courseId: 'c1' }, template: t });
      expect(r.status).toBe(403);
      const d = await api(gw, 'POST', '/courses/c1/buy', { jwt: student.jwt, body: { userId: student.id, courseId: 'c2' }, template: t });
      expect(d.status).toBe(400);
      const n = await api(gw, 'POST', '/courses/c1/buy', { body: { userId: student.id }, template: t });
      expect(n.status).toBe(401);
    });
  });

  it('POST /api/ws-ticket: 201 with a single-use ticket for a signed-in caller, 401 without a token', async () => {
    const student = await signup(gw, 'STUDENT');
    const r = await api(gw, 'POST', '/api/ws-ticket', { jwt: student.jwt });
    expect(r.status).toBe(201);
    expect(r.body).toEqual({ ticket: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/), expiresInSeconds: 30 });
    expect((await api(gw, 'POST', '/api/ws-ticket')).status).toBe(401);
  });

  it('serves the OpenAPI document, and every response seen above matches it', async () => {
    const doc = await api(gw, 'GET', '/api/openapi.json');
    expect(doc.status).toBe(200);
    expect(doc.body.openapi).toBe('3.1.0');
    recorded.pop();

    const ajv = new Ajv2020({ strict: false, allErrors: true });
    ajv.addSchema({ $id: 'openapi', components: OPENAPI_DOCUMENT.components }, 'openapi');
    const paths = OPENAPI_DOCUMENT.paths as Record<string, Record<string, { responses: Record<string, { content?: Record<string, { schema: object }> }> }>>;
    const checked = new Set<string>();
    expect(recorded.length).toBeGreaterThan(30);
    for (const r of recorded) {
      const op = paths[r.template]?.[r.method];
      if (!op) throw new Error(`no OpenAPI operation for ${r.method} ${r.template}`);
      const response = op.responses[String(r.status)];
      if (!response) throw new Error(`${r.method} ${r.template} answered ${r.status}, which the document does not list`);
      const schema = response.content?.['application/json']?.schema;
      if (!schema) continue;
      const validate = ajv.compile({ $ref: `openapi${(schema as { $ref: string }).$ref}` });
      if (!validate(r.body)) throw new Error(`${r.method} ${r.template} ${r.status}: ${ajv.errorsText(validate.errors)} in ${JSON.stringify(r.body)}`);
      checked.add(`${r.method} ${r.template} ${r.status}`);
    }
    // every operation's success answer was checked at least once
    for (const [path, ops] of Object.entries(paths)) {
      for (const [method, op] of Object.entries(ops)) {
        const ok = Object.keys(op.responses).find((s) => s.startsWith('2'))!;
        expect(checked).toContain(`${method} ${path} ${ok}`);
      }
    }
  });
});
