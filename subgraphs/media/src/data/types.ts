/** Row shapes of the media service's schema (timestamps are ISO-8601 UTC strings, sortable as text). */

export type LessonStatus = 'DRAFT' | 'UPLOADING' | 'PROCESSING' | 'READY' | 'FAILED';
export const LESSON_STATUSES: readonly LessonStatus[] = ['DRAFT', 'UPLOADING', 'PROCESSING', 'READY', 'FAILED'];

export type AssetStatus = 'UPLOADING' | 'PROCESSING' | 'READY' | 'FAILED';

export interface LessonsTable {
  id: string;
  course_id: string;
  /** The course owner when the lesson was made: whose storage quota its files count against. */
  owner_id: string;
  title: string;
  /** 1-based and dense within a course (unique per course). */
  position: number;
  status: LessonStatus;
  failure_reason: string | null;
  /** Of the current asset; null until one is READY. */
  duration_seconds: number | null;
  /** 0..100 while an asset is being transcoded; null otherwise. */
  processing_progress: number | null;
  /** The asset playback serves; switched only when a newer one is READY. */
  current_asset_id: string | null;
  /** The asset being uploaded or transcoded, if any. */
  pending_asset_id: string | null;
  created_at: string;
  updated_at: string;
}

/** One uploaded source and its transcoded outputs; files live under the asset id in storage. */
export interface AssetsTable {
  id: string;
  lesson_id: string;
  status: AssetStatus;
  /** Storage key of the uploaded source file. */
  source_key: string | null;
  size_bytes: number | null;
  duration_seconds: number | null;
  failure_reason: string | null;
  created_at: string;
  updated_at: string;
}

/** An upload ticket as issued (one upload of one lesson); `used_at` makes it single-use. */
export interface UploadsTable {
  id: string;
  lesson_id: string;
  asset_id: string;
  owner_id: string;
  max_bytes: number;
  expires_at: string;
  used_at: string | null;
  created_at: string;
}

export interface ProgressTable {
  user_id: string;
  lesson_id: string;
  course_id: string;
  position_seconds: number;
  watched_seconds: number;
  /** 0/1 (Oracle has no boolean column type before 23ai's, and SQLite none at all). */
  completed: number;
  completed_at: string | null;
  /** When the last accepted report arrived: the base of the watched-time allowance. */
  reported_at: string;
}

/** One row per (user, course) the user completed: its primary key makes the notification go once. */
export interface CourseCompletionsTable {
  user_id: string;
  course_id: string;
  completed_at: string;
}

export interface MediaDb {
  lessons: LessonsTable;
  assets: AssetsTable;
  uploads: UploadsTable;
  progress: ProgressTable;
  course_completions: CourseCompletionsTable;
}

export type LessonRow = LessonsTable;
export type AssetRow = AssetsTable;
export type UploadRow = UploadsTable;
export type ProgressRow = ProgressTable;
