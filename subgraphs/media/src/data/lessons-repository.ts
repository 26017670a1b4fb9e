import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import { badInput, notFound } from '@dream/common';
import { isUniqueViolation, mapDbError, type SqlDialect } from '@dream/common/db';
import { toLesson, type Lesson } from '../lessons/lesson';
import { mediaQueries } from './queries';
import type { AssetRow, LessonRow, MediaDb } from './types';

const now = () => new Date().toISOString();

/** A concurrent create or move took the same position: the unique constraint refused, so try again. */
const POSITION_RETRIES = 5;

export interface DeletedLesson {
  lesson: Lesson;
  /** Every asset the lesson had: their files are to be removed from storage. */
  assetIds: string[];
}

export interface IssuedUpload {
  uploadId: string;
  assetId: string;
  lesson: Lesson;
}

/** A lesson state change and what it changed, for events and notifications. */
export interface LessonChange {
  lesson: Lesson;
  /** The lesson was not READY before and is now. */
  becameReady: boolean;
  /** The asset the lesson stopped serving when a newer one became READY (its files can go). */
  replacedAssetId?: string;
}

/**
 * Lessons, their assets and upload tickets. Positions are 1-based and dense per course: create appends,
 * delete and move shift the neighbours in the same transaction.
 */
export class LessonsRepository {
  constructor(
    private readonly db: Kysely<MediaDb>,
    private readonly dialect: SqlDialect,
  ) {}

  private q(db: Kysely<MediaDb> = this.db) {
    return mediaQueries(db, this.dialect);
  }

  /** Runs `fn` in a transaction, again when a concurrent writer took the same position. */
  private async positional<T>(fn: (q: ReturnType<typeof mediaQueries>) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.db.transaction().execute((trx) => fn(this.q(trx)));
      } catch (e) {
        if (isUniqueViolation(e) && attempt < POSITION_RETRIES) continue;
        mapDbError(e, 'The lessons of this course changed at the same time; try again.');
      }
    }
  }

  async create(input: { courseId: string; ownerId: string; title: string }): Promise<Lesson> {
    const id = randomUUID();
    await this.positional(async (q) => {
      const { last } = (await q.lastPosition(input.courseId).executeTakeFirst()) ?? { last: null };
      const at = now();
      await q
        .insertLesson({
          id,
          course_id: input.courseId,
          owner_id: input.ownerId,
          title: input.title,
          position: Number(last ?? 0) + 1,
          status: 'DRAFT',
          failure_reason: null,
          duration_seconds: null,
          processing_progress: null,
          current_asset_id: null,
          pending_asset_id: null,
          created_at: at,
          updated_at: at,
        })
        .execute();
    });
    return (await this.findById(id)) as Lesson;
  }

  async findById(id: string): Promise<Lesson | undefined> {
    try {
      const row = await this.q().lessonById(id).executeTakeFirst();
      return row && toLesson(row);
    } catch (e) {
      mapDbError(e);
    }
  }

  async findByIds(ids: readonly string[]): Promise<Lesson[]> {
    if (ids.length === 0) return [];
    try {
      return (await this.q().lessonsByIds(ids).execute()).map(toLesson);
    } catch (e) {
      mapDbError(e);
    }
  }

  /** Lessons of each course in position order; `readyOnly` keeps READY ones. */
  async ofCourses(courseIds: readonly string[], readyOnly: boolean): Promise<Map<string, Lesson[]>> {
    const byCourse = new Map<string, Lesson[]>(courseIds.map((id) => [id, []]));
    if (courseIds.length === 0) return byCourse;
    try {
      for (const row of await this.q().lessonsOfCourses(courseIds, readyOnly).execute()) byCourse.get(row.course_id)?.push(toLesson(row));
      return byCourse;
    } catch (e) {
      mapDbError(e);
    }
  }

  async rename(id: string, title: string): Promise<Lesson | undefined> {
    try {
      await this.q().updateLesson(id, { title, updated_at: now() }).execute();
    } catch (e) {
      mapDbError(e);
    }
    return this.findById(id);
  }

  /** Deletes the lesson with its assets, tickets and progress, and closes the gap it leaves. */
  async delete(id: string): Promise<DeletedLesson | undefined> {
    return this.positional(async (q) => {
      const row = await q.lessonById(id).executeTakeFirst();
      if (!row) return undefined;
      const assetIds = (await q.assetsOfLessons([id]).execute()).map((a) => a.id);
      await q.deleteProgressOfLesson(id).execute();
      await q.deleteUploadsOfLesson(id).execute();
      await q.deleteAssetsOfLesson(id).execute();
      await q.deleteLesson(id).execute();
      await q.shiftPositionsAside(row.course_id, Number(row.position) + 1, Number.MAX_SAFE_INTEGER, -1).execute();
      await q.flipPositions(row.course_id).execute();
      return { lesson: toLesson(row), assetIds };
    });
  }

  /** Moves the lesson to `position` (1..count), shifting the lessons in between by one. */
  async move(id: string, position: number): Promise<Lesson> {
    await this.positional(async (q) => {
      const row = await q.lessonById(id).executeTakeFirst();
      if (!row) throw notFound(`Lesson ${id} not found.`);
      const { last } = (await q.lastPosition(row.course_id).executeTakeFirst()) ?? { last: null };
      const count = Number(last ?? 0);
      if (!Number.isInteger(position) || position < 1 || position > count) {
        throw badInput(`position must be between 1 and ${count} (the number of lessons in the course).`, [{ field: 'position', message: 'Out of range.' }]);
      }
      const from = Number(row.position);
      if (from === position) return;
      // 0 is never a live position: the lesson waits there while its neighbours shift.
      await q.updateLesson(id, { position: 0 }).execute();
      if (position < from) await q.shiftPositionsAside(row.course_id, position, from - 1, 1).execute();
      else await q.shiftPositionsAside(row.course_id, from + 1, position, -1).execute();
      await q.flipPositions(row.course_id).execute();
      await q.updateLesson(id, { position, updated_at: now() }).execute();
    });
    return (await this.findById(id)) as Lesson;
  }

  /**
   * Records an upload ticket with a new asset the upload will fill. A lesson that has nothing to play
   * (DRAFT, FAILED) shows UPLOADING; a READY one stays READY and switches only when the new asset is.
   */
  async issueUpload(lesson: Lesson, maxBytes: number, expiresAt: string): Promise<IssuedUpload> {
    const uploadId = randomUUID();
    const assetId = randomUUID();
    const at = now();
    try {
      await this.db.transaction().execute(async (trx) => {
        const q = this.q(trx);
        await q.insertAsset(newAsset(assetId, lesson.id, at)).execute();
        await q
          .insertUpload({ id: uploadId, lesson_id: lesson.id, asset_id: assetId, owner_id: lesson.ownerId, max_bytes: maxBytes, expires_at: expiresAt, used_at: null, created_at: at })
          .execute();
        const playable = lesson.currentAssetId !== null;
        await q
          .updateLesson(lesson.id, { pending_asset_id: assetId, processing_progress: null, updated_at: at, ...(playable ? {} : { status: 'UPLOADING', failure_reason: null }) })
          .execute();
      });
    } catch (e) {
      mapDbError(e);
    }
    return { uploadId, assetId, lesson: (await this.findById(lesson.id)) as Lesson };
  }

  /** Marks an upload ticket used; false when it was used before (a ticket authorises one upload). */
  async useUpload(uploadId: string): Promise<boolean> {
    try {
      const res = await this.q().useUpload(uploadId, now()).executeTakeFirst();
      return Number(res.numUpdatedRows) === 1;
    } catch (e) {
      mapDbError(e);
    }
  }

  async findAsset(assetId: string): Promise<AssetRow | undefined> {
    try {
      return await this.q().assetById(assetId).executeTakeFirst();
    } catch (e) {
      mapDbError(e);
    }
  }

  /** The upload of `assetId` is complete: the source is stored and transcoding starts. */
  async uploadReceived(lessonId: string, assetId: string, source: { key: string; sizeBytes: number }): Promise<Lesson | undefined> {
    const at = now();
    return this.pendingChange(lessonId, assetId, async (q, lesson) => {
      await q.updateAsset(assetId, { status: 'PROCESSING', source_key: source.key, size_bytes: source.sizeBytes, updated_at: at }).execute();
      const status = lesson.current_asset_id ? lesson.status : 'PROCESSING';
      await q.updatePendingLesson(lessonId, assetId, { status, processing_progress: 0, failure_reason: null, updated_at: at }).execute();
    });
  }

  /** A retranscode of the pending asset (uploaded, not served yet) starts over in place. */
  async restartProcessing(lessonId: string, assetId: string): Promise<Lesson | undefined> {
    const at = now();
    try {
      await this.db.transaction().execute(async (trx) => {
        const q = this.q(trx);
        const lesson = await q.lessonById(lessonId).executeTakeFirst();
        if (!lesson) return;
        await q.updateAsset(assetId, { status: 'PROCESSING', failure_reason: null, updated_at: at }).execute();
        const status = lesson.current_asset_id && lesson.current_asset_id !== assetId ? lesson.status : lesson.current_asset_id ? 'READY' : 'PROCESSING';
        await q.updateLesson(lessonId, { pending_asset_id: assetId, status, processing_progress: 0, failure_reason: null, updated_at: at }).execute();
      });
    } catch (e) {
      mapDbError(e);
    }
    return this.findById(lessonId);
  }

  /**
   * A retranscode of the current asset `fromAssetId` into the new asset `assetId` (its source already
   * copied to `source.key`): the asset is recorded PROCESSING and becomes the lesson's pending one, while
   * the lesson stays READY on `fromAssetId`. Undefined when the lesson is gone or plays another asset now.
   */
  async retranscodeInto(lessonId: string, fromAssetId: string, assetId: string, source: { key: string; sizeBytes: number }): Promise<Lesson | undefined> {
    const at = now();
    try {
      const applied = await this.db.transaction().execute(async (trx) => {
        const q = this.q(trx);
        const row = await q.lessonById(lessonId).executeTakeFirst();
        if (!row || row.current_asset_id !== fromAssetId) return false;
        await q.insertAsset({ ...newAsset(assetId, lessonId, at), status: 'PROCESSING', source_key: source.key, size_bytes: source.sizeBytes }).execute();
        await q.updateLesson(lessonId, { pending_asset_id: assetId, processing_progress: 0, failure_reason: null, updated_at: at }).execute();
        return true;
      });
      return applied ? this.findById(lessonId) : undefined;
    } catch (e) {
      mapDbError(e);
    }
  }

  /** Transcoding progress (0..100) of the pending asset; ignored once that asset is no longer pending. */
  async setProcessingProgress(lessonId: string, assetId: string, percent: number): Promise<Lesson | undefined> {
    const p = Math.max(0, Math.min(100, Math.floor(percent)));
    try {
      const res = await this.q().updatePendingLesson(lessonId, assetId, { processing_progress: p, updated_at: now() }).executeTakeFirst();
      if (Number(res.numUpdatedRows) !== 1) return undefined;
    } catch (e) {
      mapDbError(e);
    }
    return this.findById(lessonId);
  }

  /** The asset transcoded: the lesson switches to it and is READY. */
  async assetReady(lessonId: string, assetId: string, durationSeconds: number): Promise<LessonChange | undefined> {
    const at = now();
    let before: { status: string; current: string | null } | undefined;
    const lesson = await this.pendingChange(lessonId, assetId, async (q, row) => {
      before = { status: row.status, current: row.current_asset_id };
      await q.updateAsset(assetId, { status: 'READY', duration_seconds: durationSeconds, failure_reason: null, updated_at: at }).execute();
      // the replaced asset's files are removed next: they no longer count against the owner's quota
      if (row.current_asset_id && row.current_asset_id !== assetId) await q.updateAsset(row.current_asset_id, { size_bytes: null, updated_at: at }).execute();
      await q
        .updatePendingLesson(lessonId, assetId, {
          status: 'READY',
          current_asset_id: assetId,
          pending_asset_id: null,
          duration_seconds: durationSeconds,
          processing_progress: null,
          failure_reason: null,
          updated_at: at,
        })
        .execute();
    });
    if (!lesson || !before) return undefined;
    const replaced = before.current && before.current !== assetId ? before.current : undefined;
    return { lesson, becameReady: before.status !== 'READY', ...(replaced ? { replacedAssetId: replaced } : {}) };
  }

  /** The asset cannot be played: the lesson shows why, and keeps serving its previous asset if it has one. */
  async assetFailed(lessonId: string, assetId: string, reason: string): Promise<Lesson | undefined> {
    const at = now();
    const text = reason.slice(0, 500);
    return this.pendingChange(lessonId, assetId, async (q, row) => {
      await q.updateAsset(assetId, { status: 'FAILED', failure_reason: text, updated_at: at }).execute();
      const status = row.current_asset_id ? 'READY' : 'FAILED';
      await q.updatePendingLesson(lessonId, assetId, { status, pending_asset_id: null, processing_progress: null, failure_reason: text, updated_at: at }).execute();
    });
  }

  /** Lessons left PROCESSING, for the transcoding reconciler. */
  async processing(limit = 1000): Promise<Lesson[]> {
    try {
      return (await this.q().processingLessons(limit).execute()).map(toLesson);
    } catch (e) {
      mapDbError(e);
    }
  }

  /** Bytes of uploaded sources the owner stores (failed ones excluded: their files are deleted). */
  async storedBytesOf(ownerId: string): Promise<number> {
    try {
      const row = await this.q().ownerStoredBytes(ownerId).executeTakeFirst();
      return Number(row?.bytes ?? 0);
    } catch (e) {
      mapDbError(e);
    }
  }

  /** Runs `fn` when `assetId` is still the lesson's pending asset; undefined otherwise (a stale job). */
  private async pendingChange(
    lessonId: string,
    assetId: string,
    fn: (q: ReturnType<typeof mediaQueries>, row: LessonRow) => Promise<void>,
  ): Promise<Lesson | undefined> {
    try {
      const applied = await this.db.transaction().execute(async (trx) => {
        const q = this.q(trx);
        const row = await q.lessonById(lessonId).executeTakeFirst();
        if (!row || row.pending_asset_id !== assetId) return false;
        await fn(q, row);
        return true;
      });
      return applied ? this.findById(lessonId) : undefined;
    } catch (e) {
      mapDbError(e);
    }
  }
}

function newAsset(id: string, lessonId: string, at: string): AssetRow {
  return { id, lesson_id: lessonId, status: 'UPLOADING', source_key: null, size_bytes: null, duration_seconds: null, failure_reason: null, created_at: at, updated_at: at };
}
