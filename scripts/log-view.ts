/**
 * How `npm start` shows its services' logs. Every service writes pino JSON lines; on a terminal the
 * launcher turns each into one short coloured line prefixed with the service and replica, like
 * `docker compose up` (`users-2   | 12:00:01 INFO: registered with discovery`), formatted by
 * pino-pretty. When stdout is not a terminal, or LOG_FORMAT=json, the JSON lines are left untouched so
 * that they can be piped to a file or a log shipper.
 */
import { createInterface } from 'node:readline';
import { Writable, type Readable } from 'node:stream';
import { prettyFactory } from 'pino-pretty';

export type LogFormat = 'pretty' | 'json';

/** LOG_FORMAT wins; otherwise pretty on a terminal and JSON anywhere else (pipes, files, CI). */
export function chooseLogFormat(requested: LogFormat | undefined, out: { isTTY?: boolean }): LogFormat {
  return requested ?? (out.isTTY ? 'pretty' : 'json');
}

// ANSI foreground colours (cyan, yellow, green, magenta, blue, red), one per service, cycling like compose.
// Written directly: util.styleText drops them when process.stdout is not a terminal, and the caller
// has already decided (colour: true).
const PALETTE = [36, 33, 32, 35, 34, 31] as const;
type Colour = (typeof PALETTE)[number];

export interface LogViewOptions {
  /** Every name that will appear, so the prefixes line up from the first line on. */
  names: readonly string[];
  colour: boolean;
}

export class LogView {
  private readonly width: number;
  private readonly colours = new Map<string, Colour>();
  private readonly pretty: (line: string) => string;

  constructor(
    private readonly out: NodeJS.WritableStream,
    private readonly opts: LogViewOptions,
  ) {
    this.width = Math.max(...opts.names.map((n) => n.length));
    // pid, hostname and service are in the prefix already; one line per event, local wall-clock time
    this.pretty = prettyFactory({
      colorize: opts.colour,
      singleLine: true,
      ignore: 'pid,hostname,service,name',
      translateTime: 'SYS:HH:MM:ss',
    });
  }

  /**
   * Writes one line of `name`'s output: a pino JSON line prettified, anything else (a crash's stack) as
   * it is. An error's stack, the one thing pino-pretty keeps on several lines, gets the prefix on each.
   */
  line(name: string, raw: string): void {
    if (raw.trim() === '') return;
    const text = raw.startsWith('{') ? this.pretty(raw).replace(/\n$/, '') : raw;
    const prefix = this.prefix(name);
    this.out.write(`${prefix}${text.split('\n').join(`\n${prefix}`)}\n`);
  }

  /** Follows a child's stdout or stderr line by line. */
  follow(name: string, stream: Readable): void {
    createInterface({ input: stream, crlfDelay: Infinity }).on('line', (l) => this.line(name, l));
  }

  /** A destination for a pino logger in this process (the launcher's own lines). */
  sink(name: string): Writable {
    let rest = '';
    return new Writable({
      write: (chunk: Buffer, _enc, done) => {
        const lines = (rest + chunk.toString('utf8')).split('\n');
        rest = lines.pop() ?? '';
        for (const l of lines) this.line(name, l);
        done();
      },
    });
  }

  private prefix(name: string): string {
    const label = `${name.padEnd(this.width)} | `;
    if (!this.opts.colour) return label;
    let colour = this.colours.get(name.replace(/-\d+$/, ''));
    if (!colour) {
      colour = PALETTE[this.colours.size % PALETTE.length];
      this.colours.set(name.replace(/-\d+$/, ''), colour);
    }
    return `\x1b[${colour}m${label}\x1b[39m`;
  }
}
