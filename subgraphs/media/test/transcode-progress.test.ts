import { progressLineParser } from '../src/transcode/progress';

/** Feeds ffmpeg `-progress` blocks (as ffmpeg writes them) and returns what was reported. */
function feed(durationSeconds: number, lines: string[], minStep?: number): number[] {
  const seen: number[] = [];
  const parse = progressLineParser(durationSeconds, (f) => seen.push(f), minStep);
  lines.forEach(parse);
  return seen;
}

const block = (us: number | 'N/A', end = false) => [`frame=1`, `out_time_us=${us}`, `out_time=00:00:00.000000`, `speed=1x`, `progress=${end ? 'end' : 'continue'}`];

it('turns out_time_us into a fraction of the duration, ending at 1 on progress=end', () => {
  expect(feed(10, [...block(2_500_000), ...block(5_000_000), ...block(10_000_000, true)])).toEqual([0.25, 0.5, 0.99, 1]);
});

it('ignores N/A before the first frame and lines that are not key=value', () => {
  expect(feed(4, [...block('N/A'), 'garbage', '', ...block(1_000_000)])).toEqual([0.25]);
});

it('never goes backwards and skips steps smaller than minStep', () => {
  expect(feed(100, [...block(50_000_000), ...block(40_000_000), ...block(50_500_000), ...block(52_000_000)], 0.01)).toEqual([0.5, 0.52]);
});

it('reaches 1 only when ffmpeg says it is done (the MP4 faststart pass comes after the last frame)', () => {
  expect(feed(3, block(3_500_000))).toEqual([0.99]);
});

it('with an unknown duration reports only the end', () => {
  expect(feed(0, [...block(1_000_000), ...block(2_000_000, true)])).toEqual([1]);
});
