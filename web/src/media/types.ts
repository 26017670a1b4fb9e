export type LessonStatus = 'DRAFT' | 'UPLOADING' | 'PROCESSING' | 'READY' | 'FAILED';

export interface Lesson {
  id: string;
  title: string;
  position: number;
  status: LessonStatus;
  failureReason: string | null;
  durationSeconds: number | null;
  processingProgress: number | null;
}

export interface CourseProgress {
  completedLessons: number;
  totalLessons: number;
  percent: number;
}

export interface LessonProgress {
  positionSeconds: number;
  watchedSeconds: number;
  completed: boolean;
  completedAt: string | null;
}

/** 75 → "1:15", 3725 → "1:02:05"; unknown durations (not transcoded yet) show as a dash. */
export function formatDuration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return '–';
  const total = Math.max(0, Math.round(seconds));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = String(total % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${s}` : `${m}:${s}`;
}

/** The status in words for the owner's lists (students only ever see READY lessons). */
export function describeStatus(lesson: Pick<Lesson, 'status' | 'processingProgress'>): string {
  switch (lesson.status) {
    case 'DRAFT':
      return 'No video yet';
    case 'UPLOADING':
      return 'Uploading';
    case 'PROCESSING':
      return lesson.processingProgress === null ? 'Processing' : `Processing ${lesson.processingProgress} %`;
    case 'READY':
      return 'Ready';
    case 'FAILED':
      return 'Failed';
  }
}
