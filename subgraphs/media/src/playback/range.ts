import parseRange from 'range-parser';
import type { ByteRange } from '../storage';

/** What to send for a `Range` header against a file of `size` bytes. */
export type RangeAnswer = { kind: 'full' } | { kind: 'partial'; range: ByteRange } | { kind: 'unsatisfiable' };

/**
 * Single byte ranges only (`bytes=0-99`, `bytes=100-`, `bytes=-500`): that is all players and `<video>`
 * ask for. Several ranges that do not merge into one get the whole file, which HTTP allows; a range
 * that is malformed or starts past the end gets 416.
 */
export function answerRange(header: string | undefined, size: number): RangeAnswer {
  if (header === undefined) return { kind: 'full' };
  const ranges = parseRange(size, header, { combine: true });
  if (ranges === -1 || ranges === -2) return { kind: 'unsatisfiable' };
  if (ranges.type !== 'bytes' || ranges.length !== 1) return { kind: 'full' };
  return { kind: 'partial', range: { start: ranges[0].start, end: ranges[0].end } };
}
