import { Redis } from 'ioredis';
import { waitFor } from '@dream/common/testing';
import { useStack } from '@dream/testenv';
import { COURSE_FIELDS, CREATE, DELETE, JOIN, LIST, UPDATE, courseInput, errorCode, type TestCourses } from './helpers';

const stack = useStack({ discovery: false });
let t: TestCourses;

beforeAll(async () => {
  t = await stack.subgraph('courses');
});

async function create(token: string, over: Record<string, unknown> = {}) {
  const r = await t.gql(CREATE, { input: courseInput(over) }, token);
  expect(r.body.errors).toBeUndefined();
  return r.body.data!.createCourse as { id: string; name: string; category: string; price: number; cursor: string; owner: { id: string } };
}

describe('create, read, update, delete', () => {
  test('an OWNER creates a course; price "123" is stored as the number 123', async () => {
    const owner = stack.user(['OWNER']);
    const r = await t.gql(CREATE, { input: courseInput({ name: '  Strategy  ' }) }, owner.token);
    expect(r.body.errors).toBeUndefined();
    const c = r.body.data!.createCourse;
    expect(c).toMatchObject({ name: 'Strategy', info: 'text', category: 'Programming', price: 123, owner: { id: owner.id } });
    expect(c.createdAt).toBe(c.updatedAt);
    const got = await t.gql(`query($id: ID!) { course(id: $id) { ${COURSE_FIELDS} } }`, { id: c.id });
    expect(got.body.data!.course).toEqual(c);
  });

  test('price 19.99 as a number is accepted; both roles at once are fine', async () => {
    const owner = stack.user(['STUDENT', 'OWNER']);
    const c = await create(owner.token, { price: 19.99 });
    expect(c.price).toBe(19.99);
  });

  test('a literal price in the query text is accepted too', async () => {
    const owner = stack.user(['OWNER']);
    const r = await t.gql(
      `mutation { createCourse(input: {name: "Lit", info: "", category: "Lit", price: "12.50"}) { price info } }`,
      undefined,
      owner.token,
    );
    expect(r.body.data!.createCourse).toEqual({ price: 12.5, info: '' });
  });

  test('the owner updates some fields; the rest stay', async () => {
    const owner = stack.user(['OWNER']);
    const c = await create(owner.token, { category: 'Upd' });
    const r = await t.gql(UPDATE, { id: c.id, input: { name: 'Renamed', price: '5.5' } }, owner.token);
    expect(r.body.errors).toBeUndefined();
    expect(r.body.data!.updateCourse).toMatchObject({ id: c.id, name: 'Renamed', price: 5.5, info: 'text', category: 'Upd' });
    expect(r.body.data!.updateCourse.updatedAt > r.body.data!.updateCourse.createdAt).toBe(true);
  });

  test('the owner deletes (soft); the course disappears from reads and a second delete is NOT_FOUND', async () => {
    const owner = stack.user(['OWNER']);
    const c = await create(owner.token, { category: 'Del' });
    const r = await t.gql(DELETE, { id: c.id }, owner.token);
    expect(r.body.data!.deleteCourse).toEqual({ id: c.id, message: `Course ${c.id} deleted successfully.` });
    expect((await t.gql(`query($id: ID!) { course(id: $id) { id } }`, { id: c.id })).body.data!.course).toBeNull();
    expect((await t.gql(LIST, { category: 'Del' })).body.data!.courses).toEqual([]);
    const again = await t.gql(DELETE, { id: c.id }, owner.token);
    expect(errorCode(again)).toBe('NOT_FOUND');
    expect(errorCode(await t.gql(UPDATE, { id: c.id, input: { name: 'x' } }, owner.token))).toBe('NOT_FOUND');
    // the row is still there, marked deleted
    const row = await t.service.db.db.selectFrom('courses').select('deleted_at').where('id', '=', c.id).executeTakeFirst();
    expect(row?.deleted_at).toEqual(expect.any(String));
  });

  test('unknown course: course(id) is null, update and delete are NOT_FOUND', async () => {
    const owner = stack.user(['OWNER']);
    expect((await t.gql(`{ course(id: "nope") { id } }`)).body.data!.course).toBeNull();
    const u = await t.gql(UPDATE, { id: 'nope', input: { name: 'x' } }, owner.token);
    expect(errorCode(u)).toBe('NOT_FOUND');
    expect(u.body.errors![0].message).toBe('Course nope not found.');
    expect(errorCode(await t.gql(DELETE, { id: 'nope' }, owner.token))).toBe('NOT_FOUND');
  });
});

describe('access control', () => {
  test('a STUDENT cannot create a course (FORBIDDEN)', async () => {
    const student = stack.user(['STUDENT']);
    const r = await t.gql(CREATE, { input: courseInput() }, student.token);
    expect(errorCode(r)).toBe('FORBIDDEN');
    expect(r.body.errors![0].message).toMatch(/OWNER/);
  });

  test('no token: create, update, delete and joinLobby are UNAUTHENTICATED', async () => {
    expect(errorCode(await t.gql(CREATE, { input: courseInput() }))).toBe('UNAUTHENTICATED');
    expect(errorCode(await t.gql(UPDATE, { id: 'x', input: { name: 'y' } }))).toBe('UNAUTHENTICATED');
    expect(errorCode(await t.gql(DELETE, { id: 'x' }))).toBe('UNAUTHENTICATED');
    expect(errorCode(await t.gql(JOIN, { category: 'x' }))).toBe('UNAUTHENTICATED');
  });

  test('a bad or tampered token is UNAUTHENTICATED with HTTP 401', async () => {
    const owner = stack.user(['OWNER']);
    const tampered = owner.token.slice(0, -3) + (owner.token.endsWith('AAA') ? 'BBB' : 'AAA');
    for (const token of ['garbage', tampered]) {
      const r = await t.gql(CREATE, { input: courseInput() }, token);
      expect(r.status).toBe(401);
      expect(errorCode(r)).toBe('UNAUTHENTICATED');
    }
  });

  test("an OWNER cannot update or delete another owner's course (FORBIDDEN), and it is unchanged", async () => {
    const alice = stack.user(['OWNER']);
    const bob = stack.user(['OWNER']);
    const c = await create(alice.token, { category: 'Acl' });
    const u = await t.gql(UPDATE, { id: c.id, input: { name: 'hijacked' } }, bob.token);
    expect(errorCode(u)).toBe('FORBIDDEN');
    const del = await t.gql(DELETE, { id: c.id }, bob.token);
    expect(errorCode(del)).toBe('FORBIDDEN');
    const student = stack.user(['STUDENT']);
    expect(errorCode(await t.gql(DELETE, { id: c.id }, student.token))).toBe('FORBIDDEN');
    const got = await t.gql(`query($id: ID!) { course(id: $id) { name } }`, { id: c.id });
    expect(got.body.data!.course).toEqual({ name: 'Strategy' });
  });
});

describe('input validation', () => {
  const owner = () => stack.user(['OWNER']);

  test.each([
    [-1, 'Price must not be negative.'],
    ['abc', 'Price must be a number or a numeric string like "19.99"; got "abc".'],
    ['-5', 'Price must not be negative.'],
    [1_000_001, 'Price must be at most 1,000,000.'],
    [1.234, 'Price can have at most 2 decimals.'],
    ['', 'Price must be a number or a numeric string like "19.99"; got "".'],
  ])('price %p as a variable is BAD_USER_INPUT', async (price, message) => {
    const r = await t.gql(CREATE, { input: courseInput({ price }) }, owner().token);
    expect(errorCode(r)).toBe('BAD_USER_INPUT');
    expect(r.body.errors![0].message).toContain(message);
    expect(r.body.errors![0].extensions!.fields).toEqual([{ field: 'price', message }]);
  });

  test.each([
    ['-1', 'Price must not be negative.'],
    ['"abc"', 'Price must be a number or a numeric string like "19.99"; got "abc".'],
    ['true', 'Price must be a number or a numeric string like "19.99"; got true.'],
  ])('price %s as a literal is BAD_USER_INPUT', async (literal, message) => {
    const r = await t.gql(
      `mutation { createCourse(input: {name: "n", info: "i", category: "c", price: ${literal}}) { id } }`,
      undefined,
      owner().token,
    );
    expect(errorCode(r)).toBe('BAD_USER_INPUT');
    expect(r.body.errors![0].extensions!.fields).toEqual([{ field: 'price', message }]);
  });

  test('name, info and category are checked field by field', async () => {
    const r = await t.gql(
      CREATE,
      { input: courseInput({ name: '   ', info: 'x'.repeat(5001), category: 'a'.repeat(65) }) },
      owner().token,
    );
    expect(errorCode(r)).toBe('BAD_USER_INPUT');
    expect(r.body.errors![0].extensions!.fields).toEqual([
      { field: 'name', message: 'name must not be empty.' },
      { field: 'info', message: 'info must be at most 5000 characters (got 5001).' },
      { field: 'category', message: 'category must be at most 64 characters (got 65).' },
    ]);
  });

  test('control characters are refused', async () => {
    const r = await t.gql(CREATE, { input: courseInput({ name: 'bad\u0007name' }) }, owner().token);
    expect(r.body.errors![0].extensions!.fields).toEqual([{ field: 'name', message: 'name must not contain control characters.' }]);
  });

  test('an empty update is BAD_USER_INPUT', async () => {
    const o = owner();
    const c = await create(o.token);
    const r = await t.gql(UPDATE, { id: c.id, input: {} }, o.token);
    expect(errorCode(r)).toBe('BAD_USER_INPUT');
  });

  test('first outside 1..100 and a forged cursor are BAD_USER_INPUT', async () => {
    expect(errorCode(await t.gql(LIST, { first: 0 }))).toBe('BAD_USER_INPUT');
    expect(errorCode(await t.gql(LIST, { first: 101 }))).toBe('BAD_USER_INPUT');
    expect(errorCode(await t.gql(LIST, { after: 'not a cursor!' }))).toBe('BAD_USER_INPUT');
    expect(errorCode(await t.gql(LIST, { after: Buffer.from('x').toString('base64url') }))).toBe('BAD_USER_INPUT');
  });
});

describe('listing', () => {
  test('newest first, filtered by category (case-insensitively) and owner, paginated by cursor', async () => {
    const a = stack.user(['OWNER']);
    const b = stack.user(['OWNER']);
    const made: string[] = [];
    for (let i = 0; i < 7; i++) made.push((await create(i % 2 ? b.token : a.token, { name: `P${i}`, category: 'Paging' })).id);
    await create(a.token, { category: 'Other' });
    const newestFirst = [...made].reverse();

    const all = (await t.gql(LIST, { category: 'pAGING', first: 100 })).body.data!.courses;
    expect(all.map((c: { id: string }) => c.id)).toEqual(newestFirst);
    expect(all.every((c: { category: string }) => c.category === 'Paging')).toBe(true);

    const seen: string[] = [];
    let after: string | undefined;
    for (;;) {
      const page = (await t.gql(LIST, { category: 'Paging', first: 3, after })).body.data!.courses as Array<{ id: string; cursor: string }>;
      if (page.length === 0) break;
      expect(page.length).toBeLessThanOrEqual(3);
      seen.push(...page.map((c) => c.id));
      after = page[page.length - 1].cursor;
    }
    expect(seen).toEqual(newestFirst);

    const byB = (await t.gql(LIST, { category: 'Paging', ownerId: b.id })).body.data!.courses;
    expect(byB.map((c: { id: string }) => c.id)).toEqual([made[5], made[3], made[1]]);
  });

  test('search keeps the courses whose name contains it (case-insensitive, cached per search); blank is no filter; too long is BAD_USER_INPUT', async () => {
    const o = stack.user(['OWNER']);
    const search = (text: string | null) =>
      t.gql(`query($s: String, $o: ID) { courses(search: $s, ownerId: $o, first: 100) { id name } }`, { s: text, o: o.id });
    const go = await create(o.token, { name: 'Go in practice', category: 'Search' });
    const golf = await create(o.token, { name: 'GOLF for coders', category: 'Search' });
    await create(o.token, { name: 'Rust', category: 'Search' });
    expect((await search('  go ')).body.data!.courses.map((c: { id: string }) => c.id)).toEqual([golf.id, go.id]);
    expect((await search('golf')).body.data!.courses.map((c: { id: string }) => c.id)).toEqual([golf.id]);
    // the list cache is keyed by the search too: another search right after is not served the first answer
    expect((await search('rust')).body.data!.courses.map((c: { name: string }) => c.name)).toEqual(['Rust']);
    expect((await search('   ')).body.data!.courses).toHaveLength(3);
    expect((await search(null)).body.data!.courses).toHaveLength(3);
    expect(errorCode(await search('x'.repeat(201)))).toBe('BAD_USER_INPUT');
  });

  test('first defaults to 20', async () => {
    const o = stack.user(['OWNER']);
    for (let i = 0; i < 22; i++) await create(o.token, { category: 'Many' });
    expect((await t.gql(LIST, { category: 'Many' })).body.data!.courses).toHaveLength(20);
  });

  test('categories are distinct case-insensitively, sorted, and skip deleted courses', async () => {
    const o = stack.user(['OWNER']);
    await create(o.token, { category: 'zeta' });
    await create(o.token, { category: 'Zeta' });
    const gone = await create(o.token, { category: 'OnlyDeleted' });
    await t.gql(DELETE, { id: gone.id }, o.token);
    const cats: string[] = (await t.gql(`{ categories }`)).body.data!.categories;
    expect(cats.filter((c) => c.toLowerCase() === 'zeta')).toHaveLength(1);
    expect(cats).not.toContain('OnlyDeleted');
    const lower = cats.map((c) => c.toLowerCase());
    expect(lower).toEqual([...lower].sort());
  });
});

describe('joinLobby', () => {
  test('joins the newest course of the category not owned or joined yet, then the next, then NOT_FOUND', async () => {
    const owner = stack.user(['OWNER']);
    const student = stack.user(['STUDENT', 'OWNER']);
    const older = await create(owner.token, { category: 'Lobby' });
    const newer = await create(owner.token, { category: 'Lobby' });
    await create(student.token, { category: 'Lobby' }); // newest, but the student's own: skipped

    const first = await t.gql(JOIN, { category: 'lobby' }, student.token);
    expect(first.body.data!.joinLobby).toEqual({ status: 'success', courseId: newer.id, message: 'Joined course.', course: { id: newer.id, category: 'Lobby' } });
    const second = await t.gql(JOIN, { category: 'Lobby' }, student.token);
    expect(second.body.data!.joinLobby.courseId).toBe(older.id);
    const third = await t.gql(JOIN, { category: 'Lobby' }, student.token);
    expect(errorCode(third)).toBe('NOT_FOUND');
    expect(third.body.errors![0].message).toBe('No course to join in category "Lobby".');

    const rows = await t.service.db.db.selectFrom('enrollments').selectAll().where('user_id', '=', student.id).execute();
    expect(rows.map((r) => [r.course_id, r.source, Number(r.price_paid)]).sort()).toEqual(
      [
        [newer.id, 'lobby', 0],
        [older.id, 'lobby', 0],
      ].sort(),
    );
    const follows = await t.service.db.db.selectFrom('category_follows').selectAll().where('user_id', '=', student.id).execute();
    expect(follows.map((f) => f.category)).toEqual(['lobby']);

    const enrolled = await t.gql(
      `query($reps: [_Any!]!) { _entities(representations: $reps) { ... on User { enrolledCourses { id } } } }`,
      { reps: [{ __typename: 'User', id: student.id }] },
      student.token,
    );
    expect(enrolled.body.data!._entities[0].enrolledCourses.map((c: { id: string }) => c.id)).toEqual([older.id, newer.id]);
  });

  test('NOT_FOUND for an empty category; OWNER-only users are FORBIDDEN', async () => {
    const student = stack.user(['STUDENT']);
    expect(errorCode(await t.gql(JOIN, { category: 'Nothing here' }, student.token))).toBe('NOT_FOUND');
    expect(errorCode(await t.gql(JOIN, { category: 'Lobby' }, stack.user(['OWNER']).token))).toBe('FORBIDDEN');
    expect(errorCode(await t.gql(JOIN, { category: '  ' }, student.token))).toBe('BAD_USER_INPUT');
  });

  test('concurrent joins by one student never enroll twice in one course', async () => {
    const owner = stack.user(['OWNER']);
    const student = stack.user(['STUDENT']);
    for (let i = 0; i < 3; i++) await create(owner.token, { category: 'Race' });
    const results = await Promise.all(Array.from({ length: 5 }, () => t.gql(JOIN, { category: 'Race' }, student.token)));
    const joined = results.filter((r) => r.body.data?.joinLobby).map((r) => r.body.data!.joinLobby.courseId);
    expect(new Set(joined).size).toBe(joined.length);
    expect(joined).toHaveLength(3);
    expect(results.filter((r) => errorCode(r) === 'NOT_FOUND')).toHaveLength(2);
  });
});

describe('domain events', () => {
  test('create, update and delete publish {courseId, ownerId, category} after the write', async () => {
    const sub = stack.d.push(new Redis(stack.redis.url), (c) => c.disconnect());
    const got: Array<[string, unknown]> = [];
    sub.on('message', (channel: string, message: string) => got.push([channel, JSON.parse(message)]));
    await sub.subscribe('course.created', 'course.updated', 'course.deleted');
    const o = stack.user(['OWNER']);
    const c = await create(o.token, { category: 'Events' });
    await t.gql(UPDATE, { id: c.id, input: { price: 1 } }, o.token);
    await t.gql(DELETE, { id: c.id }, o.token);
    await waitFor(() => got.length >= 3, { what: 'three course events' });
    const payload = { courseId: c.id, ownerId: o.id, category: 'Events' };
    expect(got).toEqual([
      ['course.created', payload],
      ['course.updated', payload],
      ['course.deleted', payload],
    ]);
  });

  test('a failed write publishes nothing', async () => {
    const sub = stack.d.push(new Redis(stack.redis.url), (c) => c.disconnect());
    const got: string[] = [];
    sub.on('message', (channel: string) => got.push(channel));
    await sub.subscribe('course.created', 'course.deleted');
    await t.gql(CREATE, { input: courseInput({ price: -1 }) }, stack.user(['OWNER']).token);
    await t.gql(DELETE, { id: 'nope' }, stack.user(['OWNER']).token);
    // a marker published after the failures arrives after anything they could have published
    await t.service.redis.publish('course.created', JSON.stringify({ marker: true }));
    await waitFor(() => got.length >= 1, { what: 'marker' });
    expect(got).toEqual(['course.created']);
  });
});

describe('service endpoints', () => {
  test('a subscription sent to the subgraph says the gateway serves it', async () => {
    const r = await t.gql(`subscription { courseDeleted { id } }`);
    expect(errorCode(r)).toBe('BAD_USER_INPUT');
    expect(r.body.errors![0].message).toMatch(/served by the gateway over graphql-ws/);
  });

  test('/health reports the database and Redis', async () => {
    const h = await t.http('/health');
    expect(h.status).toBe(200);
    expect(h.body).toMatchObject({ status: 'ok', service: 'courses', db: 'up', redis: 'up' });
  });

  test('_service { sdl } declares the entities and the Subscription type', async () => {
    const r = await t.gql(`{ _service { sdl } }`);
    const sdl: string = r.body.data!._service.sdl;
    expect(sdl).toMatch(/type Course\s+@key\(fields: "id"\)/);
    expect(sdl).toMatch(/type User\s+@key\(fields: "id"\)/);
    expect(sdl).toMatch(/type Subscription/);
  });
});
