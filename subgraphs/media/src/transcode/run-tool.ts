import { spawn } from 'node:child_process';

/** Why a tool run ended badly; `reason` is short and safe to show a course owner. */
export class ToolError extends Error {
  constructor(
    readonly reason: string,
    /** The last lines ffmpeg/ffprobe wrote to stderr, for the logs. */
    readonly stderrTail: string,
  ) {
    super(reason);
    this.name = 'ToolError';
  }
}

export class ToolTimeoutError extends ToolError {
  constructor(tool: string, timeoutMs: number, stderrTail: string) {
    super(`${tool} did not finish within ${Math.round(timeoutMs / 1000)} s`, stderrTail);
    this.name = 'ToolTimeoutError';
  }
}

export interface RunToolOptions {
  /** Killed (SIGKILL: its output is thrown away, so no graceful trailer is wanted) after this long. */
  timeoutMs: number;
  /** Each complete stdout line, as it arrives (ffmpeg's `-progress pipe:1`). */
  onStdoutLine?: (line: string) => void;
  /** Aborting kills the tool too (the worker is closing). */
  signal?: AbortSignal;
}

const STDERR_KEEP = 4000;

/**
 * Runs a media tool directly (no shell, no wrapper library), resolving with its stdout when it exits 0
 * (empty when `onStdoutLine` takes it).
 * Only the tail of stderr is kept: ffmpeg can write megabytes of warnings on a long file.
 */
export function runTool(command: string, args: string[], opts: RunToolOptions): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const name = command.split('/').pop() ?? command;
    let stdout = '';
    let partial = '';
    let stderr = '';
    let timedOut = false;
    const kill = () => child.kill('SIGKILL');
    const timer = setTimeout(() => ((timedOut = true), kill()), opts.timeoutMs);
    opts.signal?.addEventListener('abort', kill, { once: true });
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      if (!opts.onStdoutLine) {
        stdout += chunk;
        return;
      }
      // streamed line by line, never kept: progress output grows with the video's length
      const lines = (partial + chunk).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) opts.onStdoutLine(line.trim());
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr = (stderr + chunk).slice(-STDERR_KEEP);
    });
    const done = () => {
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', kill);
    };
    child.once('error', (err: NodeJS.ErrnoException) => {
      done();
      reject(new ToolError(err.code === 'ENOENT' ? `${name} is not installed (${command})` : `${name} could not start: ${err.message}`, ''));
    });
    child.once('close', (code, signal) => {
      done();
      if (timedOut) reject(new ToolTimeoutError(name, opts.timeoutMs, stderr));
      else if (opts.signal?.aborted) reject(new ToolError(`${name} was stopped`, stderr));
      else if (code === 0) resolve(stdout);
      else reject(new ToolError(`${name} failed (${signal ? `signal ${signal}` : `exit code ${code}`})`, stderr));
    });
  });
}
