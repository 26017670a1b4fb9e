/** The part of a media element's `played` TimeRanges this module reads (so it is testable without a browser). */
export interface Ranges {
  readonly length: number;
  start(i: number): number;
  end(i: number): number;
}

/** Seconds covered by `ranges` (the browser merges overlaps, so each second watched counts once). */
export function distinctSeconds(ranges: Ranges): number {
  let total = 0;
  for (let i = 0; i < ranges.length; i++) total += Math.max(0, ranges.end(i) - ranges.start(i));
  return total;
}

/**
 * The watched total to report: what the server had when the page opened plus what this page played
 * (distinct within the visit), capped at the duration. The server keeps the larger of its value and
 * ours and limits growth to the wall clock, so a re-watch across visits cannot complete a lesson early.
 */
export function watchedTotal(previous: number, played: Ranges, durationSeconds: number | null): number {
  const total = previous + distinctSeconds(played);
  return durationSeconds && durationSeconds > 0 ? Math.min(total, durationSeconds) : total;
}

/**
 * Where to resume: the saved position, unless the person had (nearly) reached the end, where starting
 * over is what they want; never past the end.
 */
export function resumeAt(positionSeconds: number | undefined, durationSeconds: number | null): number {
  if (!positionSeconds || positionSeconds <= 0) return 0;
  if (durationSeconds && positionSeconds >= durationSeconds - 1) return 0;
  return positionSeconds;
}

/** Saving cadence while playing (also saved on pause, end and when the page is hidden). */
export const SAVE_EVERY_MS = 10_000;
