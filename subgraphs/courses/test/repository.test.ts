import { compileOnly } from '@dream/common/db';
import { lintOracleSql, oracleMigrationStatements, repositoryTargets } from '@dream/common/testing';
import { coursesMigrations } from '../src/data/migrations';
import { CoursesRepository } from '../src/data/courses-repository';
import { openCoursesDatabase, type CoursesDatabase } from '../src/data/database';
import { EnrollmentsRepository } from '../src/data/enrollments-repository';
import { courseQueries, enrollmentQueries } from '../src/data/queries';
import type { CoursesDb } from '../src/data/types';
import { encodeCursor, decodeCursor } from '../src/domain';

/** The same repository suite on every database we support (see repositoryTargets). */
const { targets, double } = repositoryTargets('courses');

describe.each(targets)('repositories on $name', ({ url, double: oracleDouble }) => {
  const open = () => openCoursesDatabase(url(), undefined, { oraclePool: oracleDouble?.pool() });
  let database: CoursesDatabase;
  let courses: CoursesRepository;
  let enrollments: EnrollmentsRepository;
  const run = Math.random().toString(36).slice(2, 8);
  const cat = (c: string) => `${c}-${run}`;

  beforeAll(async () => {
    database = await open();
    courses = new CoursesRepository(database.db, database.dialect);
    enrollments = new EnrollmentsRepository(database.db, database.dialect);
  });
  afterAll(() => database?.close());

  test('create then find, with a long info text, an empty info and a decimal price', async () => {
    const info = 'é'.repeat(4999);
    const c = await courses.create({ ownerId: `o-${run}`, name: 'Course', info, category: cat('Repo'), price: 19.99 });
    expect(c).toMatchObject({ ownerId: `o-${run}`, name: 'Course', info, category: cat('Repo'), price: 19.99 });
    expect(await courses.findById(c.id)).toEqual(c);
    const empty = await courses.create({ ownerId: `o-${run}`, name: 'Empty', info: '', category: cat('Repo'), price: 0 });
    expect((await courses.findById(empty.id))!.info).toBe('');
    expect((await courses.findById(empty.id))!.price).toBe(0);
  });

  test('every write is committed: another connection sees it, and no transaction is left open', async () => {
    const other = await open();
    try {
      const seen = {
        courses: new CoursesRepository(other.db, other.dialect),
        enrollments: new EnrollmentsRepository(other.db, other.dialect),
      };
      const c = await courses.create({ ownerId: `w-${run}`, name: 'Written', info: 'i', category: cat('Commit'), price: 3 });
      expect(await seen.courses.findById(c.id)).toEqual(c);
      await courses.update(c.id, { name: 'Rewritten' });
      expect((await seen.courses.findById(c.id))!.name).toBe('Rewritten');
      const bought = await enrollments.purchase({ userId: `wb-${run}`, courseId: c.id, idempotencyKey: `w-${run}` });
      expect(await seen.enrollments.findEnrollment(`wb-${run}`, c.id)).toEqual(bought.enrollment);
      const other2 = await courses.create({ ownerId: `w2-${run}`, name: 'Lobby', info: 'i', category: cat('Commit'), price: 3 });
      const joined = await enrollments.joinLobby(`wj-${run}`, cat('Commit').toLowerCase());
      expect(joined!.course.id).toBe(other2.id);
      expect(await seen.enrollments.findEnrollment(`wj-${run}`, other2.id)).toEqual(joined!.enrollment);
      expect(await seen.enrollments.followersOf(cat('Commit').toLowerCase())).toEqual([`wj-${run}`]);
      expect(await courses.softDelete(c.id)).toBe(true);
      expect(await seen.courses.findById(c.id)).toBeUndefined();
      if (oracleDouble) {
        expect(oracleDouble.committed('select name from courses where id = ?', other2.id)).toEqual([{ name: 'Lobby' }]);
        expect(oracleDouble.openSessions.filter((s) => s.inTransaction)).toEqual([]);
      }
    } finally {
      await other.close();
    }
  });

  test('findByIds and findByOwnerIds are single statements', async () => {
    const o1 = `o1-${run}`;
    const o2 = `o2-${run}`;
    const a = await courses.create({ ownerId: o1, name: 'A', info: 'i', category: cat('Own'), price: 1 });
    const b = await courses.create({ ownerId: o2, name: 'B', info: 'i', category: cat('Own'), price: 2 });
    const c = await courses.create({ ownerId: o1, name: 'C', info: 'i', category: cat('Own'), price: 3 });
    let before = database.stats.queries;
    const found = await courses.findByIds([a.id, b.id, 'missing']);
    expect(database.stats.queries - before).toBe(1);
    expect(found.map((x) => x.id).sort()).toEqual([a.id, b.id].sort());
    before = database.stats.queries;
    const byOwner = await courses.findByOwnerIds([o1, o2, 'nobody']);
    expect(database.stats.queries - before).toBe(1);
    expect(byOwner.get(o1)!.map((x) => x.id)).toEqual([c.id, a.id]);
    expect(byOwner.get(o2)!.map((x) => x.id)).toEqual([b.id]);
    expect(byOwner.get('nobody')).toEqual([]);
  });

  test('list: newest first, case-insensitive category, owner filter, keyset pages', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await courses.create({ ownerId: `p-${run}`, name: `P${i}`, info: '', category: cat('Page'), price: i })).id);
    const key = cat('Page').toLowerCase();
    const first = await courses.list({ categoryKey: key, limit: 2 });
    expect(first.map((c) => c.id)).toEqual([ids[4], ids[3]]);
    const next = await courses.list({ categoryKey: key, limit: 10, after: decodeCursor(encodeCursor(first[1])) });
    expect(next.map((c) => c.id)).toEqual([ids[2], ids[1], ids[0]]);
    expect((await courses.list({ ownerId: `p-${run}`, limit: 100 })).map((c) => c.id)).toEqual([...ids].reverse());
  });

  test('list: search by a case-insensitive part of the name, with % and _ matched literally', async () => {
    const owner = `s-${run}`;
    const mk = (name: string) => courses.create({ ownerId: owner, name, info: '', category: cat('Find'), price: 1 });
    const rust = await mk('Intro to Rust');
    const rust2 = await mk('RUSTy tricks');
    const pct = await mk('100% Go');
    await mk('100 Go'); // would match "100%" if % were a wildcard
    await mk('a_b'); // "_" literal: must not match "axb"
    const axb = await mk('axb');
    const names = async (nameContains: string) =>
      (await courses.list({ ownerId: owner, nameContains, limit: 100 })).map((c) => c.id);
    expect(await names('rust')).toEqual([rust2.id, rust.id]);
    expect(await names('100%')).toEqual([pct.id]);
    expect(await names('x')).toEqual([axb.id]);
    expect(await names('a_b')).not.toContain(axb.id);
    expect(await names('nothing like it')).toEqual([]);
  });

  test('update and soft delete', async () => {
    const c = await courses.create({ ownerId: `u-${run}`, name: 'Old', info: 'x', category: cat('Upd'), price: 10 });
    const u = await courses.update(c.id, { name: 'New', price: 12.5 });
    expect(u).toMatchObject({ id: c.id, name: 'New', price: 12.5, info: 'x' });
    expect(await courses.softDelete(c.id)).toBe(true);
    expect(await courses.softDelete(c.id)).toBe(false);
    expect(await courses.findById(c.id)).toBeUndefined();
    expect(await courses.update(c.id, { name: 'Ghost' })).toBeUndefined();
    expect(await courses.categories()).not.toContain(cat('Upd'));
  });

  test('categories group case-insensitively', async () => {
    await courses.create({ ownerId: `k-${run}`, name: 'K', info: '', category: cat('Kat'), price: 1 });
    await courses.create({ ownerId: `k-${run}`, name: 'K', info: '', category: cat('KAT'), price: 1 });
    const cats = (await courses.categories()).filter((c) => c.toLowerCase() === cat('kat').toLowerCase());
    expect(cats).toHaveLength(1);
  });

  test('joinLobby picks newest not-owned not-joined, records lobby enrollment and one follow', async () => {
    const s = `s-${run}`;
    const older = await courses.create({ ownerId: `l-${run}`, name: 'L1', info: '', category: cat('Lob'), price: 9 });
    const newer = await courses.create({ ownerId: `l-${run}`, name: 'L2', info: '', category: cat('Lob'), price: 9 });
    await courses.create({ ownerId: s, name: 'Own', info: '', category: cat('Lob'), price: 9 });
    const key = cat('Lob').toLowerCase();
    const j1 = await enrollments.joinLobby(s, key);
    expect(j1!.course.id).toBe(newer.id);
    expect(j1!.enrollment).toMatchObject({ source: 'lobby', price_paid: 0 });
    expect((await enrollments.joinLobby(s, key))!.course.id).toBe(older.id);
    expect(await enrollments.joinLobby(s, key)).toBeUndefined();
    expect(await enrollments.followersOf(key)).toEqual([s]);
    const before = database.stats.queries;
    const byUser = await enrollments.coursesByUserIds([s, 'other']);
    expect(database.stats.queries - before).toBe(1);
    expect(byUser.get(s)!.map((c) => c.id)).toEqual([older.id, newer.id]);
    expect(byUser.get('other')).toEqual([]);
  });

  test('purchase is idempotent by key and by (user, course)', async () => {
    const c = await courses.create({ ownerId: `b-${run}`, name: 'Buy', info: '', category: cat('Buy'), price: 42.5 });
    const key = `idem-${run}`;
    const p1 = await enrollments.purchase({ userId: `buyer-${run}`, courseId: c.id, idempotencyKey: key });
    expect(p1).toMatchObject({ alreadyOwned: false, enrollment: { source: 'purchase', price_paid: 42.5 } });
    const p2 = await enrollments.purchase({ userId: `buyer-${run}`, courseId: c.id, idempotencyKey: key });
    expect(p2.alreadyOwned).toBe(true);
    expect(p2.enrollment.id).toBe(p1.enrollment.id);
    const p3 = await enrollments.purchase({ userId: `buyer-${run}`, courseId: c.id });
    expect(p3.enrollment.id).toBe(p1.enrollment.id);
    await expect(enrollments.purchase({ userId: `buyer-${run}`, courseId: 'missing' })).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  test('a purchase racing a deletion or a price change is decided by the course row at the moment of the insert', async () => {
    // `known.price` is what the buyer's earlier read saw; the course changes between that read and the insert
    const repriced = await courses.create({ ownerId: `r-${run}`, name: 'Reprice', info: '', category: cat('Race'), price: 10 });
    await courses.update(repriced.id, { price: 25 });
    const p = await enrollments.purchase({ userId: `rb-${run}`, courseId: repriced.id }, { price: 10, notOwned: true });
    expect(p).toMatchObject({ alreadyOwned: false, enrollment: { price_paid: 25 } });
    const stored = await database.db.selectFrom('enrollments').selectAll().where('id', '=', p.enrollment.id).executeTakeFirstOrThrow();
    expect(Number(stored.price_paid)).toBe(25);

    const gone = await courses.create({ ownerId: `r-${run}`, name: 'Gone', info: '', category: cat('Race'), price: 10 });
    await courses.softDelete(gone.id);
    await expect(enrollments.purchase({ userId: `rb-${run}`, courseId: gone.id }, { price: 10, notOwned: true })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect(await enrollments.findEnrollment(`rb-${run}`, gone.id)).toBeUndefined();
  });

  test('idempotency keys are per buyer: two students using the same key both buy', async () => {
    const c = await courses.create({ ownerId: `k-${run}`, name: 'Key', info: '', category: cat('Key'), price: 5 });
    const key = `same-${run}`;
    const a = await enrollments.purchase({ userId: `ka-${run}`, courseId: c.id, idempotencyKey: key });
    const b = await enrollments.purchase({ userId: `kb-${run}`, courseId: c.id, idempotencyKey: key });
    expect(a).toMatchObject({ alreadyOwned: false, enrollment: { user_id: `ka-${run}` } });
    expect(b).toMatchObject({ alreadyOwned: false, enrollment: { user_id: `kb-${run}` } });
    // a repeat by either still answers with its own enrollment
    expect((await enrollments.purchase({ userId: `kb-${run}`, courseId: c.id, idempotencyKey: key })).enrollment.id).toBe(b.enrollment.id);
  });
});

// Runs after the suites above (jest keeps file order): the Migrator's own statements, its introspection and
// every repository statement really sent, not only the ones compiled above.
describe('every statement sent to the Oracle double', () => {
  it('passed the Oracle 23ai lint (the double refuses what would fail)', () => {
    const sent = double.executed();
    expect(new Set(sent.map((c) => c.sql)).size).toBeGreaterThan(10);
    expect(double.refused()).toEqual([]);
  });
});

describe('every repository query compiles for Oracle', () => {
  const oracle = compileOnly<CoursesDb>('oracle');
  const cq = courseQueries(oracle, 'oracle');
  const eq = enrollmentQueries(oracle);
  const row = {
    id: 'c1', owner_id: 'o1', name: 'n', info: 'i', category: 'C', price: 1, created_at: 't', updated_at: 't', deleted_at: null,
  };
  const enrollment = {
    id: 'e1', user_id: 'u1', course_id: 'c1', source: 'lobby' as const, price_paid: 0, idempotency_key: null, created_at: 't',
  };
  const compiled: Record<keyof typeof cq | keyof typeof eq, string> = {
    insertOutbox: cq.insertOutbox({ id: 'o1', course_id: 'c1', created_at: 't' }).compile().sql,
    pendingOutbox: cq.pendingOutbox(100).compile().sql,
    deleteOutbox: cq.deleteOutbox(['o1', 'o2']).compile().sql,
    insertCourse: cq.insertCourse(row).compile().sql,
    courseById: cq.courseById('c1').compile().sql,
    coursesByIds: cq.coursesByIds(['a', 'b']).compile().sql,
    coursesByOwnerIds: cq.coursesByOwnerIds(['a', 'b']).compile().sql,
    listCourses: cq.listCourses({ categoryKey: 'c', ownerId: 'o', nameContains: 'n', after: { createdAt: 't', id: 'i' }, limit: 20 }).compile().sql,
    categories: cq.categories().compile().sql,
    updateCourse: cq.updateCourse('c1', { name: 'x', updated_at: 't' }).compile().sql,
    softDeleteCourse: cq.softDeleteCourse('c1', 't').compile().sql,
    lobbyCandidate: cq.lobbyCandidate('u1', 'c').compile().sql,
    insertEnrollment: eq.insertEnrollment(enrollment).compile().sql,
    insertPurchaseOfLiveCourse: eq.insertPurchaseOfLiveCourse({ ...enrollment, source: 'purchase' }).compile().sql,
    enrollmentById: eq.enrollmentById('e1').compile().sql,
    enrollmentByUserCourse: eq.enrollmentByUserCourse('u1', 'c1').compile().sql,
    enrollmentByIdempotencyKey: eq.enrollmentByIdempotencyKey('k').compile().sql,
    enrolledCoursesByUserIds: eq.enrolledCoursesByUserIds(['u1', 'u2']).compile().sql,
    followByUserCategory: eq.followByUserCategory('u1', 'c').compile().sql,
    insertFollow: eq.insertFollow('u1', 'c', 't').compile().sql,
    followersOfCategory: eq.followersOfCategory('c').compile().sql,
    enrolledCourseIdsOfUser: eq.enrolledCourseIdsOfUser('u1', ['c1', 'c2']).compile().sql,
    studentIdsOfCourse: eq.studentIdsOfCourse('c1').compile().sql,
  };

  test.each(Object.entries(compiled))('%s', (_name, text) => {
    expect(text).not.toMatch(/\blimit\b/i); // Oracle has no LIMIT
    expect(text).not.toMatch(/\breturning\b/i); // the Oracle adapter has no RETURNING
    expect(text).not.toMatch(/\$\d|\?/); // Oracle binds are :1, :2 …
    expect(text).not.toMatch(/`/);
    expect(lintOracleSql(text)).toEqual([]);
  });

  test('row limits use FETCH FIRST on Oracle and LIMIT on SQLite', () => {
    expect(compiled.listCourses).toMatch(/fetch first :\d+ rows only$/);
    expect(compiled.lobbyCandidate).toMatch(/fetch first :\d+ rows only$/);
    const sqlite = courseQueries(compileOnly<CoursesDb>('sqlite'), 'sqlite');
    expect(sqlite.listCourses({ limit: 5 }).compile().sql).toMatch(/limit \?$/);
  });

  test('the migration compiles for Oracle with a CLOB for info', async () => {
    const statements = await oracleMigrationStatements(coursesMigrations('oracle')['001_courses']);
    for (const statement of statements) expect({ statement, problems: lintOracleSql(statement) }).toEqual({ statement, problems: [] });
    expect(statements.join('\n')).toMatch(/"info" clob/);
    expect(statements.join('\n')).not.toMatch(/\btext\b/);
    expect(statements.some((s) => /create index "courses_category_created_idx" on "courses" \("category", "created_at"\)/.test(s))).toBe(true);
  });
});
