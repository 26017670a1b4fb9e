import type { Kysely } from 'kysely';
import { isUniqueViolation, mapDbError, type SqlDialect } from '@dream/common/db';
import { applyReport, type AppliedReport, type ProgressReport, type ProgressState } from '../progress/rules';
import { mediaQueries } from './queries';
import type { MediaDb, ProgressRow } from './types';

/** Reports racing for the same (user, lesson) row: the loser of the insert re-reads and applies again. */
const INSERT_RETRIES = 3;

function toState(row: ProgressRow): ProgressState {
  return {
    positionSeconds: Number(row.position_seconds),
    watchedSeconds: Number(row.watched_seconds),
    completed: Number(row.completed) === 1,
    completedAt: row.completed_at,
    reportedAtMs: Date.parse(row.reported_at),
  };
}

export interface CourseCounts {
  completed: number;
  ready: number;
}

/** Per-user watching progress and course completions. */
export class ProgressRepository {
  constructor(
    private readonly db: Kysely<MediaDb>,
    private readonly dialect: SqlDialect,
  ) {}

  private q(db: Kysely<MediaDb> = this.db) {
    return mediaQueries(db, this.dialect);
  }

  async ofUser(userId: string, lessonIds: readonly string[]): Promise<Map<string, ProgressState>> {
    if (lessonIds.length === 0) return new Map();
    try {
      const rows = await this.q().progressOf(userId, lessonIds).execute();
      return new Map(rows.map((r) => [r.lesson_id, toState(r)]));
    } catch (e) {
      mapDbError(e);
    }
  }

  /** Applies one report in a transaction (read, rules, write), so concurrent reports never lose watched time. */
  async record(
    userId: string,
    lesson: { id: string; courseId: string; durationSeconds: number },
    report: ProgressReport,
    nowMs = Date.now(),
  ): Promise<AppliedReport> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.db.transaction().execute(async (trx) => {
          const q = this.q(trx);
          const row = await q.progressOf(userId, [lesson.id]).executeTakeFirst();
          const applied = applyReport(row && toState(row), report, lesson.durationSeconds, nowMs);
          const s = applied.state;
          const values = {
            position_seconds: s.positionSeconds,
            watched_seconds: s.watchedSeconds,
            completed: s.completed ? 1 : 0,
            completed_at: s.completedAt,
            reported_at: new Date(s.reportedAtMs).toISOString(),
          };
          if (row) await q.updateProgress(userId, lesson.id, values).execute();
          else await q.insertProgress({ user_id: userId, lesson_id: lesson.id, course_id: lesson.courseId, ...values }).execute();
          return applied;
        });
      } catch (e) {
        if (isUniqueViolation(e) && attempt < INSERT_RETRIES) continue;
        mapDbError(e);
      }
    }
  }

  /** Completed and READY lesson counts of each course for one user. */
  async courseCounts(userId: string, courseIds: readonly string[]): Promise<Map<string, CourseCounts>> {
    const counts = new Map<string, CourseCounts>(courseIds.map((id) => [id, { completed: 0, ready: 0 }]));
    if (courseIds.length === 0) return counts;
    try {
      const [ready, completed] = await Promise.all([
        this.q().readyCountsOfCourses(courseIds).execute(),
        this.q().completedCountsOfCourses(userId, courseIds).execute(),
      ]);
      for (const r of ready) counts.get(r.course_id)!.ready = Number(r.ready);
      for (const r of completed) counts.get(r.course_id)!.completed = Number(r.completed);
      return counts;
    } catch (e) {
      mapDbError(e);
    }
  }

  /** Records that the user completed the course; true only the first time (the notification goes once). */
  async markCourseCompleted(userId: string, courseId: string, at = new Date().toISOString()): Promise<boolean> {
    try {
      await this.q().insertCompletion(userId, courseId, at).execute();
      return true;
    } catch (e) {
      if (isUniqueViolation(e)) return false;
      mapDbError(e);
    }
  }
}
