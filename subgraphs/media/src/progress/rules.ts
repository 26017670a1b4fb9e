/**
 * The watching rules, as pure functions of the stored state and one report, so they are tested without
 * a player. A client reports its total distinct watched time; the server never lets it grow faster than
 * the wall clock allows, so a scripted report cannot complete a lesson that nobody watched.
 */

/** A report may add at most this many seconds of watching per second of wall-clock time since the last one (2× playback speed). */
export const MAX_WATCH_RATE = 2;
/** Allowance of the first report and slack of every later one (a report sent a little early, clocks). */
export const WATCH_GRACE_SECONDS = 5;
/** Share of the lesson's duration that must be watched for it to count as completed. */
export const COMPLETION_RATIO = 0.9;

export interface ProgressState {
  positionSeconds: number;
  watchedSeconds: number;
  completed: boolean;
  /** ISO-8601; set once, never cleared. */
  completedAt: string | null;
  /** Epoch ms of the last report. */
  reportedAtMs: number;
}

export interface ProgressReport {
  positionSeconds: number;
  watchedSeconds: number;
}

export interface AppliedReport {
  state: ProgressState;
  /** This report completed the lesson (it was not completed before). */
  newlyCompleted: boolean;
}

const clamp = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, v));
/** Millisecond precision, as stored (numeric(12, 3)): the same report twice compares equal. */
const ms = (v: number) => Math.round(v * 1000) / 1000;

/**
 * The state after `report`, given the lesson's duration. watchedSeconds never decreases, never exceeds the
 * duration, and grows by at most MAX_WATCH_RATE × elapsed + grace; repeating a report changes nothing but
 * the time of the last report (idempotent). Completion sticks once reached.
 */
export function applyReport(prev: ProgressState | undefined, report: ProgressReport, durationSeconds: number, nowMs: number): AppliedReport {
  const previousWatched = prev?.watchedSeconds ?? 0;
  const elapsedSeconds = prev ? Math.max(0, (nowMs - prev.reportedAtMs) / 1000) : 0;
  const allowance = MAX_WATCH_RATE * elapsedSeconds + WATCH_GRACE_SECONDS;
  const watched = ms(clamp(Math.min(report.watchedSeconds, previousWatched + allowance), previousWatched, durationSeconds));
  const reachedEnd = durationSeconds > 0 && watched >= COMPLETION_RATIO * durationSeconds;
  const wasCompleted = prev?.completed ?? false;
  const completed = wasCompleted || reachedEnd;
  const completedAt = prev?.completedAt ?? (completed ? new Date(nowMs).toISOString() : null);
  return {
    state: {
      positionSeconds: ms(clamp(report.positionSeconds, 0, durationSeconds)),
      watchedSeconds: Math.max(watched, previousWatched),
      completed,
      completedAt,
      reportedAtMs: nowMs,
    },
    newlyCompleted: completed && !wasCompleted,
  };
}

/** CourseProgress.percent: completed ÷ READY lessons, rounded down; 0 for a course with no READY lesson. */
export function coursePercent(completedLessons: number, readyLessons: number): number {
  if (readyLessons <= 0) return 0;
  return Math.floor((100 * Math.min(completedLessons, readyLessons)) / readyLessons);
}
