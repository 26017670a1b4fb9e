import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { AppError, createLogger, type AuthUser } from '@dream/common';
import { Disposables, startRedisServer, waitFor } from '@dream/common/testing';
import { CoursesRepository } from '../src/data/courses-repository';
import { openCoursesDatabase, type CoursesDatabase } from '../src/data/database';
import { EnrollmentsRepository, scopedIdempotencyKey } from '../src/data/enrollments-repository';
import { NOTIFICATION_CHANNEL, type NotificationMessage } from '@dream/common/events';
import { RedisNotifier } from '../src/events';
import { PURCHASE_MESSAGE, PurchaseService } from '../src/purchase';

/**
 * PurchaseService (BuyCourse behind the gRPC adapter) on a real SQLite database and a real Redis for
 * its notifications: exactly-once purchases, who may buy what, and one notification per new purchase.
 */
describe('PurchaseService', () => {
  const d = new Disposables();
  let database: CoursesDatabase;
  let courses: CoursesRepository;
  let enrollments: EnrollmentsRepository;
  let service: PurchaseService;
  let sub: Redis;
  const published: NotificationMessage[] = [];
  const logs: Array<Record<string, unknown>> = [];
  let courseId = '';
  let n = 0;

  const owner: AuthUser = { id: 'owner-1', username: 'olga', roles: ['OWNER'], jti: 'j', exp: 0 };
  const student = (roles: AuthUser['roles'] = ['STUDENT']): AuthUser => ({ id: `s-${++n}`, username: `stu${n}`, roles, jti: 'j', exp: 0 });
  const rows = async (userId: string) => (await database.db.selectFrom('enrollments').selectAll().where('user_id', '=', userId).execute()) as Array<{ id: string; idempotency_key: string | null; price_paid: number; source: string }>;

  async function refusal(p: Promise<unknown>): Promise<{ code: string; message: string; fields?: unknown }> {
    try {
      await p;
    } catch (e) {
      if (!(e instanceof AppError)) throw e;
      return { code: e.code, message: e.message, ...(e.fields ? { fields: e.fields } : {}) };
    }
    throw new Error('expected a refusal');
  }

  /** Every notification published so far has arrived once `fence` (published last) has. */
  async function notificationsAfter(fence: () => Promise<unknown>): Promise<NotificationMessage[]> {
    const from = published.length;
    await fence();
    await waitFor(() => published.slice(from).some((e) => e.kind === 'fence'), { what: 'the fence notification' });
    return published.slice(from).filter((e) => e.kind !== 'fence');
  }

  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'purchase-'));
    d.defer(() => rmSync(dir, { recursive: true, force: true }));
    database = d.push(await openCoursesDatabase(`sqlite:${join(dir, 'c.db')}`), (x) => x.close());
    courses = new CoursesRepository(database.db, database.dialect);
    enrollments = new EnrollmentsRepository(database.db, database.dialect);
    const server = d.push(await startRedisServer(), (s) => s.stop());
    const pub = d.push(new Redis(server.url), (r) => r.disconnect());
    sub = d.push(new Redis(server.url), (r) => r.disconnect());
    await sub.subscribe(NOTIFICATION_CHANNEL);
    sub.on('message', (_c, m: string) => published.push(JSON.parse(m) as NotificationMessage));
    const logger = createLogger('t', { level: 'debug', destination: { write: (line: string) => logs.push(JSON.parse(line) as Record<string, unknown>) } as never });
    service = new PurchaseService({ courses, enrollments, notifier: new RedisNotifier(pub, createLogger('t', { level: 'silent' })), logger });
    courseId = (await courses.create({ ownerId: owner.id, name: 'Go', info: 'i', category: 'Programming', price: 42.5 })).id;
  });
  afterAll(() => d.disposeAll());

  const fenceNotice = (pub = service) => (pub as unknown as { deps: { notifier: RedisNotifier } }).deps.notifier.notify({ userId: 'nobody', kind: 'fence', text: 'fence' });

  it('a first purchase records one enrollment at the current price and notifies the owner once', async () => {
    const s = student();
    let res: Awaited<ReturnType<PurchaseService['buy']>> | undefined;
    const notes = await notificationsAfter(async () => {
      res = await service.buy(s, { userId: s.id, courseId, idempotencyKey: 'k1' }, 'req-1');
      await fenceNotice();
    });
    expect(res).toEqual({ message: PURCHASE_MESSAGE, enrollmentId: expect.any(String), alreadyOwned: false });
    const stored = await rows(s.id);
    expect(stored).toEqual([expect.objectContaining({ id: res!.enrollmentId, source: 'purchase', price_paid: 42.5, idempotency_key: scopedIdempotencyKey(s.id, 'k1') })]);
    expect(notes).toEqual([{ userId: owner.id, kind: 'course.bought', courseId, text: `${s.username} bought your course "Go".`, createdAt: expect.any(String) }]);
    // the log line carries the request, the buyer, the course, the enrollment and the price
    expect(logs.filter((l) => l.userId === s.id)).toEqual([
      expect.objectContaining({ msg: 'course bought', requestId: 'req-1', userId: s.id, courseId, enrollmentId: res!.enrollmentId, pricePaid: 42.5 }),
    ]);
    // repeats are logged as such, with or without a key
    await service.buy(s, { userId: s.id, courseId, idempotencyKey: 'k1' }, 'req-2');
    await service.buy(s, { userId: s.id, courseId, idempotencyKey: '' }, 'req-3');
    expect(logs.filter((l) => l.userId === s.id).slice(1)).toEqual([
      expect.objectContaining({ msg: 'repeat purchase: already owned', requestId: 'req-2', enrollmentId: res!.enrollmentId }),
      expect.objectContaining({ msg: 'repeat purchase: already owned', requestId: 'req-3', enrollmentId: res!.enrollmentId }),
    ]);
  });

  it('a repeat with the same key, with another key, or without a key buys nothing twice and notifies no one', async () => {
    const s = student();
    let first = { enrollmentId: '' };
    expect(
      await notificationsAfter(async () => {
        first = await service.buy(s, { userId: '', courseId, idempotencyKey: 'a' }, 'r');
        await fenceNotice();
      }),
    ).toHaveLength(1);
    const notes = await notificationsAfter(async () => {
      for (const key of ['a', 'b', '']) {
        expect(await service.buy(s, { userId: s.id, courseId, idempotencyKey: key }, 'r')).toEqual({ message: PURCHASE_MESSAGE, enrollmentId: first.enrollmentId, alreadyOwned: true });
      }
      await fenceNotice();
    });
    expect(notes).toEqual([]);
    expect(await rows(s.id)).toHaveLength(1);
  });

  it('without a key: a first purchase is new, a repeat answers the same enrollment', async () => {
    const s = student();
    const first = await service.buy(s, { userId: s.id, courseId, idempotencyKey: '' }, 'r');
    expect(first.alreadyOwned).toBe(false);
    expect(await service.buy(s, { userId: s.id, courseId, idempotencyKey: '' }, 'r')).toEqual({ ...first, alreadyOwned: true });
    expect((await rows(s.id)).map((r) => r.idempotency_key)).toEqual([null]);
  });

  it('costs the statements it promises: a repeat without a key is one indexed read, a first purchase reads nothing twice', async () => {
    const statements = async (fn: () => Promise<unknown>) => {
      const before = database.stats.queries;
      await fn();
      return database.stats.queries - before;
    };
    const s = student();
    // no key: the (user, course) lookup, the course, the insert
    expect(await statements(() => service.buy(s, { userId: s.id, courseId, idempotencyKey: '' }, 'r'))).toBe(3);
    expect(await statements(() => service.buy(s, { userId: s.id, courseId, idempotencyKey: '' }, 'r'))).toBe(1);
    const t = student();
    // a key: the course, the lookups by key and by (user, course), the insert
    expect(await statements(() => service.buy(t, { userId: t.id, courseId, idempotencyKey: 'cost' }, 'r'))).toBe(4);
    expect(await statements(() => service.buy(t, { userId: t.id, courseId, idempotencyKey: 'cost' }, 'r'))).toBe(2);
  });

  it('concurrent purchases of one pair, with one key or none: exactly one says new, all answer the same enrollment', async () => {
    for (const key of ['same', '']) {
      const s = student();
      const answers = await Promise.all(Array.from({ length: 8 }, () => service.buy(s, { userId: s.id, courseId, idempotencyKey: key }, 'r')));
      expect(answers.filter((a) => !a.alreadyOwned)).toHaveLength(1);
      expect(new Set(answers.map((a) => a.enrollmentId)).size).toBe(1);
      expect(await rows(s.id)).toHaveLength(1);
    }
  });

  it('a key used for another course is a CONFLICT, not that purchase', async () => {
    const s = student();
    const other = (await courses.create({ ownerId: owner.id, name: 'Rust', info: 'i', category: 'Programming', price: 1 })).id;
    await service.buy(s, { userId: s.id, courseId, idempotencyKey: 'shared' }, 'r');
    expect(await refusal(service.buy(s, { userId: s.id, courseId: other, idempotencyKey: 'shared' }, 'r'))).toEqual({
      code: 'CONFLICT',
      message: 'This idempotency key was already used for a different purchase.',
    });
    expect(await rows(s.id)).toHaveLength(1);
    // two students may pick the same key: keys are scoped per buyer
    const t = student();
    expect((await service.buy(t, { userId: t.id, courseId, idempotencyKey: 'shared' }, 'r')).alreadyOwned).toBe(false);
  });

  it('refuses buying for someone else, without the STUDENT role, bad ids and keys, unknown courses and one’s own course', async () => {
    const s = student();
    expect(await refusal(service.buy(s, { userId: 'someone-else', courseId, idempotencyKey: '' }, 'r'))).toEqual({ code: 'FORBIDDEN', message: 'user_id must be the user of the token (or left empty).' });
    expect(await refusal(service.buy(student(['OWNER']), { userId: '', courseId, idempotencyKey: '' }, 'r'))).toEqual({ code: 'FORBIDDEN', message: 'Only a user with the STUDENT role can buy courses.' });
    for (const bad of ['', 'a b', 'x'.repeat(129), 'é']) {
      expect(await refusal(service.buy(s, { userId: '', courseId: bad, idempotencyKey: '' }, 'r'))).toEqual({
        code: 'BAD_USER_INPUT',
        message: 'course_id is required (up to 128 letters, digits, ".", "_", ":", "-").',
        fields: [{ field: 'courseId', message: 'Invalid course id.' }],
      });
      if (bad) {
        expect(await refusal(service.buy(s, { userId: '', courseId, idempotencyKey: bad }, 'r'))).toEqual({
          code: 'BAD_USER_INPUT',
          message: 'idempotency_key must be 1-128 letters, digits, ".", "_", ":", "-".',
          fields: [{ field: 'idempotencyKey', message: 'Invalid idempotency key.' }],
        });
      }
    }
    expect((await service.buy(s, { userId: '', courseId, idempotencyKey: `Az09._:-${'k'.repeat(120)}` }, 'r')).alreadyOwned).toBe(false);
    expect(await refusal(service.buy(student(), { userId: '', courseId: 'missing-course', idempotencyKey: 'k' }, 'r'))).toEqual({ code: 'NOT_FOUND', message: 'Course missing-course not found.' });
    const both = { ...owner, roles: ['OWNER', 'STUDENT'] as AuthUser['roles'] };
    expect(await refusal(service.buy(both, { userId: '', courseId, idempotencyKey: '' }, 'r'))).toEqual({ code: 'FORBIDDEN', message: 'You cannot buy your own course.' });
    expect(await rows(both.id)).toEqual([]);
  });

  it('a retry of a purchase that succeeded before the course was deleted still answers success', async () => {
    const s = student();
    const c = (await courses.create({ ownerId: owner.id, name: 'Gone', info: 'i', category: 'Programming', price: 3 })).id;
    const first = await service.buy(s, { userId: s.id, courseId: c, idempotencyKey: 'g' }, 'r');
    await courses.softDelete(c);
    expect(await service.buy(s, { userId: s.id, courseId: c, idempotencyKey: 'g' }, 'r')).toEqual({ ...first, alreadyOwned: true });
    expect(await service.buy(s, { userId: s.id, courseId: c, idempotencyKey: '' }, 'r')).toEqual({ ...first, alreadyOwned: true });
    // a new buyer of the deleted course is told it does not exist
    expect(await refusal(service.buy(student(), { userId: '', courseId: c, idempotencyKey: 'g2' }, 'r'))).toEqual({ code: 'NOT_FOUND', message: `Course ${c} not found.` });
  });
});
