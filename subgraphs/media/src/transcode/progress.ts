/**
 * Turns ffmpeg's `-progress pipe:1` lines (`out_time_us=…`, `progress=continue|end`) into a 0..1
 * fraction of `durationSeconds`. Reports only forward steps of at least `minStep` (ffmpeg writes a block
 * twice a second; each report becomes a Redis write and a subscription event) and always the final 1.
 */
export function progressLineParser(durationSeconds: number, report: (fraction: number) => void, minStep = 0.01): (line: string) => void {
  let last = 0;
  const emit = (f: number) => {
    const fraction = Math.min(1, Math.max(0, f));
    if (fraction < 1 && fraction - last < minStep) return;
    if (fraction <= last && last > 0) return;
    last = fraction;
    report(fraction);
  };
  return (line) => {
    const eq = line.indexOf('=');
    if (eq < 0) return;
    const key = line.slice(0, eq);
    const value = line.slice(eq + 1);
    if (key === 'progress' && value === 'end') emit(1);
    else if (key === 'out_time_us' && durationSeconds > 0) {
      const us = Number(value);
      // N/A before the first frame is written
      // capped below 1: the MP4's faststart pass and the trailers are still to be written
      if (Number.isFinite(us)) emit(Math.min(0.99, us / 1e6 / durationSeconds));
    }
  };
}
