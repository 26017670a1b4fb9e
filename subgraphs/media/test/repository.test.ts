import { compileOnly } from '@dream/common/db';
import { lintOracleSql, oracleMigrationStatements, repositoryTargets } from '@dream/common/testing';
import { openMediaDatabase, type MediaDatabase } from '../src/data/database';
import { LessonsRepository } from '../src/data/lessons-repository';
import { mediaMigrations } from '../src/data/migrations';
import { ProgressRepository } from '../src/data/progress-repository';
import { mediaQueries } from '../src/data/queries';
import type { MediaDb } from '../src/data/types';

/** The repositories on every database we support (see repositoryTargets). */
const { targets, double } = repositoryTargets('media');

describe.each(targets)('repositories on $name', ({ url, double: oracleDouble }) => {
  let database: MediaDatabase;
  let lessons: LessonsRepository;
  let progress: ProgressRepository;
  const run = Math.random().toString(36).slice(2, 8);

  beforeAll(async () => {
    database = await openMediaDatabase(url(), undefined, { oraclePool: oracleDouble?.pool() });
    lessons = new LessonsRepository(database.db, database.dialect);
    progress = new ProgressRepository(database.db, database.dialect);
  });
  afterAll(() => database?.close());

  const titles = async (courseId: string) => (await lessons.ofCourses([courseId], false)).get(courseId)!.map((l) => `${l.position}${l.title}`).join(' ');

  test('create, move and delete keep positions dense', async () => {
    const course = `c-${run}`;
    const ids: string[] = [];
    for (const title of ['A', 'B', 'C', 'D']) ids.push((await lessons.create({ courseId: course, ownerId: `o-${run}`, title })).id);
    await lessons.move(ids[3], 1);
    expect(await titles(course)).toBe('1D 2A 3B 4C');
    await lessons.move(ids[3], 4);
    expect(await titles(course)).toBe('1A 2B 3C 4D');
    await lessons.delete(ids[1]);
    expect(await titles(course)).toBe('1A 2C 3D');
  });

  test('upload to READY, progress and the course completion recorded once', async () => {
    const course = `p-${run}`;
    const lesson = await lessons.create({ courseId: course, ownerId: `o-${run}`, title: 'Only' });
    const { assetId, uploadId } = await lessons.issueUpload(lesson, 500, new Date(Date.now() + 60_000).toISOString());
    expect(await lessons.useUpload(uploadId)).toBe(true);
    expect(await lessons.useUpload(uploadId)).toBe(false);
    expect((await lessons.uploadReceived(lesson.id, assetId, { key: 'k', sizeBytes: 500 }))!.status).toBe('PROCESSING');
    expect(await lessons.storedBytesOf(`o-${run}`)).toBe(500);
    expect((await lessons.processing()).map((l) => l.id)).toContain(lesson.id);
    const change = await lessons.assetReady(lesson.id, assetId, 20.5);
    expect(change).toMatchObject({ becameReady: true, lesson: { status: 'READY', currentAssetId: assetId, durationSeconds: 20.5 } });
    const t0 = Date.now();
    await progress.record(`u-${run}`, { id: lesson.id, courseId: course, durationSeconds: 20.5 }, { positionSeconds: 5, watchedSeconds: 5 }, t0);
    const done = await progress.record(`u-${run}`, { id: lesson.id, courseId: course, durationSeconds: 20.5 }, { positionSeconds: 20, watchedSeconds: 20 }, t0 + 10_000);
    expect(done).toMatchObject({ newlyCompleted: true, state: { watchedSeconds: 20, completed: true } });
    expect((await progress.ofUser(`u-${run}`, [lesson.id])).get(lesson.id)).toMatchObject({ watchedSeconds: 20, completed: true });
    expect((await progress.courseCounts(`u-${run}`, [course])).get(course)).toEqual({ completed: 1, ready: 1 });
    expect(await progress.markCourseCompleted(`u-${run}`, course)).toBe(true);
    expect(await progress.markCourseCompleted(`u-${run}`, course)).toBe(false);
  });
});

describe('every statement sent to the Oracle double', () => {
  it('passed the Oracle 23ai lint (the double refuses what would fail)', () => {
    const sent = double.executed();
    expect(new Set(sent.map((c) => c.sql)).size).toBeGreaterThan(10);
    expect(double.refused()).toEqual([]);
  });
});

describe('every repository query compiles for Oracle', () => {
  const q = mediaQueries(compileOnly<MediaDb>('oracle'), 'oracle');
  const lesson = {
    id: 'l1', course_id: 'c1', owner_id: 'o1', title: 't', position: 1, status: 'DRAFT' as const, failure_reason: null, duration_seconds: null,
    processing_progress: null, current_asset_id: null, pending_asset_id: null, created_at: 't', updated_at: 't',
  };
  const asset = { id: 'a1', lesson_id: 'l1', status: 'UPLOADING' as const, source_key: null, size_bytes: null, duration_seconds: null, failure_reason: null, created_at: 't', updated_at: 't' };
  const row = { user_id: 'u1', lesson_id: 'l1', course_id: 'c1', position_seconds: 1, watched_seconds: 1, completed: 0, completed_at: null, reported_at: 't' };
  const compiled: Record<keyof typeof q, string> = {
    insertLesson: q.insertLesson(lesson).compile().sql,
    lessonById: q.lessonById('l1').compile().sql,
    lessonsByIds: q.lessonsByIds(['l1', 'l2']).compile().sql,
    lessonsOfCourses: q.lessonsOfCourses(['c1', 'c2'], true).compile().sql,
    lastPosition: q.lastPosition('c1').compile().sql,
    updateLesson: q.updateLesson('l1', { title: 'x', updated_at: 't' }).compile().sql,
    updatePendingLesson: q.updatePendingLesson('l1', 'a1', { status: 'READY' }).compile().sql,
    deleteLesson: q.deleteLesson('l1').compile().sql,
    shiftPositionsAside: q.shiftPositionsAside('c1', 2, 5, -1).compile().sql,
    flipPositions: q.flipPositions('c1').compile().sql,
    lessonIdsOfCourse: q.lessonIdsOfCourse('c1').compile().sql,
    processingLessons: q.processingLessons(100).compile().sql,
    readyCountsOfCourses: q.readyCountsOfCourses(['c1']).compile().sql,
    insertAsset: q.insertAsset(asset).compile().sql,
    assetById: q.assetById('a1').compile().sql,
    assetsOfLessons: q.assetsOfLessons(['l1']).compile().sql,
    updateAsset: q.updateAsset('a1', { status: 'READY' }).compile().sql,
    deleteAssetsOfLesson: q.deleteAssetsOfLesson('l1').compile().sql,
    ownerStoredBytes: q.ownerStoredBytes('o1').compile().sql,
    insertUpload: q.insertUpload({ id: 'u', lesson_id: 'l1', asset_id: 'a1', owner_id: 'o1', max_bytes: 1, expires_at: 't', used_at: null, created_at: 't' }).compile().sql,
    uploadById: q.uploadById('u').compile().sql,
    useUpload: q.useUpload('u', 't').compile().sql,
    deleteUploadsOfLesson: q.deleteUploadsOfLesson('l1').compile().sql,
    progressOf: q.progressOf('u1', ['l1']).compile().sql,
    insertProgress: q.insertProgress(row).compile().sql,
    updateProgress: q.updateProgress('u1', 'l1', { watched_seconds: 2 }).compile().sql,
    deleteProgressOfLesson: q.deleteProgressOfLesson('l1').compile().sql,
    completedCountsOfCourses: q.completedCountsOfCourses('u1', ['c1']).compile().sql,
    insertCompletion: q.insertCompletion('u1', 'c1', 't').compile().sql,
  };

  test.each(Object.entries(compiled))('%s', (_name, text) => {
    expect(text).not.toMatch(/\blimit\b/i);
    expect(text).not.toMatch(/\breturning\b/i);
    expect(text).not.toMatch(/\$\d|\?/);
    expect(lintOracleSql(text)).toEqual([]);
  });

  test('the migration compiles for Oracle and passes the lint', async () => {
    const statements = await oracleMigrationStatements(mediaMigrations('oracle')['001_media']);
    expect(statements.length).toBeGreaterThan(5);
    for (const statement of statements) expect({ statement, problems: lintOracleSql(statement) }).toEqual({ statement, problems: [] });
    expect(compiled.processingLessons).toMatch(/fetch first :\d+ rows only$/);
  });
});
