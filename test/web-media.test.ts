// The web app's media logic that needs no browser: durations, statuses, watched time, resume point, upload errors.
import { describeStatus, formatDuration } from '../web/src/media/types';
import { distinctSeconds, resumeAt, watchedTotal, type Ranges } from '../web/src/media/watch-progress';
import { isRetryable, uploadErrorMessage } from '../web/src/media/upload-errors';

/** A TimeRanges as the browser gives it for `played`: sorted, merged ranges. */
const ranges = (...r: Array<[number, number]>): Ranges => ({ length: r.length, start: (i) => r[i][0], end: (i) => r[i][1] });

test('durations read as m:ss or h:mm:ss; unknown ones as a dash', () => {
  expect(formatDuration(3.6)).toBe('0:04');
  expect(formatDuration(75)).toBe('1:15');
  expect(formatDuration(3725)).toBe('1:02:05');
  expect(formatDuration(null)).toBe('–');
  expect(formatDuration(Number.NaN)).toBe('–');
});

test('the owner reads each status in words, with the processing percentage when known', () => {
  expect(describeStatus({ status: 'DRAFT', processingProgress: null })).toBe('No video yet');
  expect(describeStatus({ status: 'PROCESSING', processingProgress: 42 })).toBe('Processing 42 %');
  expect(describeStatus({ status: 'PROCESSING', processingProgress: null })).toBe('Processing');
  expect(describeStatus({ status: 'FAILED', processingProgress: null })).toBe('Failed');
  expect(describeStatus({ status: 'READY', processingProgress: null })).toBe('Ready');
});

test('watched time counts the played ranges once each, adds what earlier visits saved, and never passes the duration', () => {
  expect(distinctSeconds(ranges())).toBe(0);
  expect(distinctSeconds(ranges([0, 2.5], [10, 14]))).toBe(6.5);
  expect(watchedTotal(0, ranges([0, 3.8]), 4)).toBeCloseTo(3.8);
  expect(watchedTotal(30, ranges([30, 50]), 100)).toBe(50);
  expect(watchedTotal(90, ranges([0, 60]), 100)).toBe(100);
  expect(watchedTotal(5, ranges([0, 10]), null)).toBe(15);
});

test('the player resumes at the saved position, and from the start when the person had reached the end', () => {
  expect(resumeAt(undefined, 100)).toBe(0);
  expect(resumeAt(0, 100)).toBe(0);
  expect(resumeAt(42.5, 100)).toBe(42.5);
  expect(resumeAt(99.5, 100)).toBe(0);
  expect(resumeAt(12, null)).toBe(12);
});

test('a failed upload shows the media service’s reason and status, or a sentence about the cut', () => {
  const answer = (status: number, body: string) => Object.assign(new Error('tus: failed'), { originalResponse: { getStatus: () => status, getBody: () => body } });
  expect(uploadErrorMessage(answer(422, 'Not a playable video file'))).toBe('Not a playable video file (HTTP 422)');
  expect(uploadErrorMessage(answer(403, JSON.stringify({ error: { code: 'FORBIDDEN', message: 'Over your storage quota of 5 GB' } })))).toBe('Over your storage quota of 5 GB (HTTP 403)');
  expect(uploadErrorMessage(answer(413, ''))).toBe('The upload was refused (HTTP 413).');
  expect(uploadErrorMessage(Object.assign(new Error('network'), { originalResponse: null }))).toMatch(/cut.*Resume upload/);
});

test('cuts, server failures and lock conflicts are retried (tus resumes at the offset); refusals are final', () => {
  const answer = (status: number) => Object.assign(new Error('tus'), { originalResponse: { getStatus: () => status, getBody: () => '' } });
  expect(isRetryable(Object.assign(new Error('cut'), { originalResponse: null }))).toBe(true);
  for (const status of [500, 502, 503, 409, 423]) expect({ status, retry: isRetryable(answer(status)) }).toEqual({ status, retry: true });
  for (const status of [400, 401, 403, 413, 415, 422]) expect({ status, retry: isRetryable(answer(status)) }).toEqual({ status, retry: false });
});
