import type { LessonRow, LessonStatus } from '../data/types';

/** A lesson as the resolvers see it (camelCase, numbers as numbers). */
export interface Lesson {
  id: string;
  courseId: string;
  ownerId: string;
  title: string;
  position: number;
  status: LessonStatus;
  failureReason: string | null;
  durationSeconds: number | null;
  processingProgress: number | null;
  currentAssetId: string | null;
  pendingAssetId: string | null;
  createdAt: string;
  updatedAt: string;
}

const num = (v: number | string | null): number | null => (v === null ? null : Number(v));

export function toLesson(row: LessonRow): Lesson {
  return {
    id: row.id,
    courseId: row.course_id,
    ownerId: row.owner_id,
    title: row.title,
    position: Number(row.position),
    status: row.status,
    failureReason: row.failure_reason,
    durationSeconds: num(row.duration_seconds),
    processingProgress: num(row.processing_progress),
    currentAssetId: row.current_asset_id,
    pendingAssetId: row.pending_asset_id,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}
