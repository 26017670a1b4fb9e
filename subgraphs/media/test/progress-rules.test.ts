import { applyReport, coursePercent, MAX_WATCH_RATE, WATCH_GRACE_SECONDS, type ProgressState } from '../src/progress/rules';

const T0 = Date.parse('2026-01-01T00:00:00Z');
const at = (seconds: number) => T0 + seconds * 1000;

function watch(reports: Array<[number, number, number]>, duration = 100): ProgressState {
  let state: ProgressState | undefined;
  for (const [t, position, watched] of reports) state = applyReport(state, { positionSeconds: position, watchedSeconds: watched }, duration, at(t)).state;
  return state!;
}

describe('watchedSeconds', () => {
  test('counts what was reported when it fits the wall clock', () => {
    expect(watch([[0, 3, 3], [10, 13, 13], [20, 23, 23]]).watchedSeconds).toBe(23);
  });

  test('a report adds at most 2× the wall-clock time since the previous one (plus a small grace)', () => {
    const s = watch([[0, 0, 0], [10, 100, 100]]);
    expect(s.watchedSeconds).toBe(MAX_WATCH_RATE * 10 + WATCH_GRACE_SECONDS);
    expect(s.completed).toBe(false);
    // the first report cannot claim a whole lesson either
    expect(watch([[0, 100, 100]]).watchedSeconds).toBe(WATCH_GRACE_SECONDS);
  });

  test('never decreases, never exceeds the duration, and seeking does not add watched time', () => {
    expect(watch([[0, 5, 5], [10, 2, 1]]).watchedSeconds).toBe(5);
    expect(watch([[0, 5, 5], [100, 500, 500]]).watchedSeconds).toBe(100);
    const seeked = watch([[0, 5, 5], [10, 80, 15]]);
    expect(seeked).toMatchObject({ positionSeconds: 80, watchedSeconds: 15 });
  });

  test('a repeated report is idempotent', () => {
    const once = watch([[0, 4, 4], [10, 14, 14]]);
    const twice = watch([[0, 4, 4], [10, 14, 14], [10, 14, 14]]);
    expect(twice).toEqual(once);
  });
});

describe('completion', () => {
  test('at 90 % watched; completedAt is set once and never cleared', () => {
    const reports: Array<[number, number, number]> = [];
    for (let t = 0; t <= 90; t += 10) reports.push([t, t, t]);
    const done = watch(reports);
    expect(done).toMatchObject({ completed: true, watchedSeconds: 90, completedAt: new Date(at(90)).toISOString() });
    const later = applyReport(done, { positionSeconds: 0, watchedSeconds: 0 }, 100, at(500));
    expect(later.state).toMatchObject({ completed: true, completedAt: done.completedAt, watchedSeconds: 90, positionSeconds: 0 });
    expect(later.newlyCompleted).toBe(false);
  });

  test('89.9 % is not complete', () => {
    const s = watch([[0, 0, 0], [100, 89.9, 89.9]]);
    expect(s).toMatchObject({ completed: false, completedAt: null });
  });

  test('newlyCompleted only on the report that crosses the line', () => {
    const before = watch([[0, 0, 0], [60, 85, 85]]);
    const crossing = applyReport(before, { positionSeconds: 95, watchedSeconds: 95 }, 100, at(70));
    expect(crossing.newlyCompleted).toBe(true);
    expect(applyReport(crossing.state, { positionSeconds: 95, watchedSeconds: 95 }, 100, at(70)).newlyCompleted).toBe(false);
  });
});

test('CourseProgress.percent = completed ÷ READY lessons, rounded down', () => {
  expect(coursePercent(0, 0)).toBe(0);
  expect(coursePercent(1, 3)).toBe(33);
  expect(coursePercent(2, 3)).toBe(66);
  expect(coursePercent(3, 3)).toBe(100);
  expect(coursePercent(199, 200)).toBe(99);
});
