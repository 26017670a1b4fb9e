import type { Kysely } from 'kysely';
import type { SqlDialect } from '@dream/common/db';
import type { AssetRow, LessonRow, MediaDb, ProgressRow, UploadRow } from './types';

type LessonPatch = Partial<Omit<LessonRow, 'id' | 'course_id' | 'owner_id' | 'created_at'>>;
type AssetPatch = Partial<Pick<AssetRow, 'status' | 'source_key' | 'size_bytes' | 'duration_seconds' | 'failure_reason' | 'updated_at'>>;

/**
 * Every statement the repositories run, as builders over any Kysely (a transaction, the live database,
 * or `compileOnly('oracle')` in tests), so one test compiles each of them for Oracle. Row limits: Oracle
 * takes `fetch first n rows only`, SQLite `limit`, hence `take`.
 */
export function mediaQueries(db: Kysely<MediaDb>, dialect: SqlDialect) {
  const take = <QB extends { limit(n: number): QB; fetch(n: number): QB }>(q: QB, n: number): QB =>
    dialect === 'oracle' ? q.fetch(n) : q.limit(n);
  return {
    insertLesson: (row: LessonRow) => db.insertInto('lessons').values(row),
    lessonById: (id: string) => db.selectFrom('lessons').selectAll().where('id', '=', id),
    lessonsByIds: (ids: readonly string[]) => db.selectFrom('lessons').selectAll().where('id', 'in', [...ids]),
    /** Lessons of many courses in course order; `readyOnly` for everyone but the owner. */
    lessonsOfCourses: (courseIds: readonly string[], readyOnly: boolean) => {
      let q = db.selectFrom('lessons').selectAll().where('course_id', 'in', [...courseIds]);
      if (readyOnly) q = q.where('status', '=', 'READY');
      return q.orderBy('course_id').orderBy('position');
    },
    lastPosition: (courseId: string) =>
      db.selectFrom('lessons').select((eb) => eb.fn.max<number | null>('position').as('last')).where('course_id', '=', courseId),
    updateLesson: (id: string, patch: LessonPatch) => db.updateTable('lessons').set(patch).where('id', '=', id),
    /** Guarded state change: only when the lesson still points at `assetId` as its pending asset. */
    updatePendingLesson: (id: string, assetId: string, patch: LessonPatch) =>
      db.updateTable('lessons').set(patch).where('id', '=', id).where('pending_asset_id', '=', assetId),
    deleteLesson: (id: string) => db.deleteFrom('lessons').where('id', '=', id),
    /**
     * First half of a shift of positions `from..to` by `delta`: to negative values (-(p + delta)), which no
     * live position uses, so the unique (course, position) constraint holds after every row in both
     * dialects (SQLite checks it row by row). `flipPositions` makes them positive again.
     */
    shiftPositionsAside: (courseId: string, from: number, to: number, delta: number) =>
      db
        .updateTable('lessons')
        .set((eb) => ({ position: eb(eb.val(-delta), '-', eb.ref('position')) }))
        .where('course_id', '=', courseId)
        .where('position', '>=', from)
        .where('position', '<=', to),
    flipPositions: (courseId: string) =>
      db
        .updateTable('lessons')
        .set((eb) => ({ position: eb.neg(eb.ref('position')) }))
        .where('course_id', '=', courseId)
        .where('position', '<', 0),
    lessonIdsOfCourse: (courseId: string) => db.selectFrom('lessons').select(['id', 'current_asset_id', 'pending_asset_id']).where('course_id', '=', courseId),
    /** Lessons left PROCESSING (for the transcoding reconciler), oldest change first. */
    processingLessons: (limit: number) =>
      take(db.selectFrom('lessons').selectAll().where('status', '=', 'PROCESSING').orderBy('updated_at').orderBy('id'), limit),
    readyCountsOfCourses: (courseIds: readonly string[]) =>
      db
        .selectFrom('lessons')
        .select((eb) => ['course_id', eb.fn.countAll<number>().as('ready')])
        .where('course_id', 'in', [...courseIds])
        .where('status', '=', 'READY')
        .groupBy('course_id'),

    insertAsset: (row: AssetRow) => db.insertInto('assets').values(row),
    assetById: (id: string) => db.selectFrom('assets').selectAll().where('id', '=', id),
    assetsOfLessons: (lessonIds: readonly string[]) => db.selectFrom('assets').select(['id', 'lesson_id']).where('lesson_id', 'in', [...lessonIds]),
    updateAsset: (id: string, patch: AssetPatch) => db.updateTable('assets').set(patch).where('id', '=', id),
    deleteAssetsOfLesson: (lessonId: string) => db.deleteFrom('assets').where('lesson_id', '=', lessonId),
    /** Bytes of READY and in-flight sources an owner stores (the storage quota). */
    ownerStoredBytes: (ownerId: string) =>
      db
        .selectFrom('assets')
        .innerJoin('lessons', 'lessons.id', 'assets.lesson_id')
        .select((eb) => eb.fn.sum<number | null>('assets.size_bytes').as('bytes'))
        .where('lessons.owner_id', '=', ownerId)
        .where('assets.status', '<>', 'FAILED'),

    insertUpload: (row: UploadRow) => db.insertInto('uploads').values(row),
    uploadById: (id: string) => db.selectFrom('uploads').selectAll().where('id', '=', id),
    /** Marks the ticket used; affects no row when it was used already (single use, race-free). */
    useUpload: (id: string, at: string) => db.updateTable('uploads').set({ used_at: at }).where('id', '=', id).where('used_at', 'is', null),
    deleteUploadsOfLesson: (lessonId: string) => db.deleteFrom('uploads').where('lesson_id', '=', lessonId),

    progressOf: (userId: string, lessonIds: readonly string[]) =>
      db.selectFrom('progress').selectAll().where('user_id', '=', userId).where('lesson_id', 'in', [...lessonIds]),
    insertProgress: (row: ProgressRow) => db.insertInto('progress').values(row),
    updateProgress: (userId: string, lessonId: string, patch: Partial<Omit<ProgressRow, 'user_id' | 'lesson_id' | 'course_id'>>) =>
      db.updateTable('progress').set(patch).where('user_id', '=', userId).where('lesson_id', '=', lessonId),
    deleteProgressOfLesson: (lessonId: string) => db.deleteFrom('progress').where('lesson_id', '=', lessonId),
    /** Completed READY lessons of a user per course. */
    completedCountsOfCourses: (userId: string, courseIds: readonly string[]) =>
      db
        .selectFrom('progress')
        .innerJoin('lessons', 'lessons.id', 'progress.lesson_id')
        .select((eb) => ['lessons.course_id', eb.fn.countAll<number>().as('completed')])
        .where('progress.user_id', '=', userId)
        .where('progress.completed', '=', 1)
        .where('lessons.course_id', 'in', [...courseIds])
        .where('lessons.status', '=', 'READY')
        .groupBy('lessons.course_id'),
    insertCompletion: (userId: string, courseId: string, at: string) =>
      db.insertInto('course_completions').values({ user_id: userId, course_id: courseId, completed_at: at }),
  };
}

export type MediaQueries = ReturnType<typeof mediaQueries>;
