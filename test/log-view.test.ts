/**
 * scripts/log-view.ts: how `npm start` shows the services' pino lines on a terminal — one short line per
 * event, prefixed with the service and replica — and when it leaves the JSON alone.
 */
import { PassThrough, Writable } from 'node:stream';
import { createLogger } from '@dream/common';
import { chooseLogFormat, LogView } from '../scripts/log-view';

// eslint-disable-next-line no-control-regex
const ANSI = /\x1b\[[0-9;]*m/g;

function capture(): { out: Writable; lines: () => string[] } {
  let text = '';
  const out = new Writable({
    write(chunk: Buffer, _enc, done) {
      text += chunk.toString('utf8');
      done();
    },
  });
  return { out, lines: () => text.split('\n').filter(Boolean) };
}

const names = ['launcher', 'discovery', 'users-1', 'users-2', 'courses-1', 'gateway'];

describe('log view', () => {
  it('shows a pino line from a real logger as one line: aligned service prefix, time, level, message, fields', async () => {
    const { out, lines } = capture();
    const view = new LogView(out, { names, colour: false });
    const log = createLogger('users', { level: 'info', destination: view.sink('users-2') });
    log.info({ instanceId: 'users-abc', nested: { a: 1 } }, 'registered with discovery');
    log.error({ err: new Error('boom\nsecond line') }, 'upstream failed');
    log.debug('not shown at info');
    await new Promise((r) => setImmediate(r));
    const [first, second, ...stack] = lines();
    // the error's stack follows on lines of its own, each with the prefix
    expect(stack.length).toBeGreaterThan(0);
    for (const l of stack) expect(l).toMatch(/^users-2   \| /);
    expect(first).toMatch(/^users-2   \| \[\d\d:\d\d:\d\d\] INFO: registered with discovery \{"instanceId":"users-abc","nested":\{"a":1\}\}$/);
    // the service, pid and hostname are in the prefix or left out; the line stays short
    expect(first).not.toMatch(/pid|hostname|"service"/);
    expect(second).toMatch(/^users-2   \| \[\d\d:\d\d:\d\d\] ERROR: upstream failed /);
    expect(stack.join('\n')).toContain('Error: boom');
  });

  it('passes lines that are not JSON (a crash on stderr) through with the prefix, and skips blank ones', () => {
    const { out, lines } = capture();
    const view = new LogView(out, { names, colour: false });
    view.line('gateway', 'Error: listen EADDRINUSE: address already in use :::8080');
    view.line('gateway', '   ');
    view.line('gateway', '{not json');
    expect(lines()).toEqual(['gateway   | Error: listen EADDRINUSE: address already in use :::8080', 'gateway   | {not json']);
  });

  it('follows a child stream line by line, also when a chunk ends mid-line', async () => {
    const { out, lines } = capture();
    const view = new LogView(out, { names, colour: false });
    const stream = new PassThrough();
    view.follow('courses-1', stream);
    stream.write('{"level":30,"time":0,"msg":"fir');
    stream.write('st"}\n{"level":40,"time":0,"msg":"second"}\n');
    stream.end();
    await new Promise((r) => stream.once('close', r));
    await new Promise((r) => setImmediate(r));
    expect(lines().map((l) => l.replace(/\[[^\]]*\] /, ''))).toEqual(['courses-1 | INFO: first', 'courses-1 | WARN: second']);
  });

  it('colours the prefix per service (replicas share one) and the level when colour is on', () => {
    const { out, lines } = capture();
    const view = new LogView(out, { names, colour: true });
    view.line('users-1', '{"level":30,"time":0,"msg":"a"}');
    view.line('users-2', '{"level":30,"time":0,"msg":"b"}');
    view.line('gateway', '{"level":50,"time":0,"msg":"c"}');
    const [a, b, c] = lines();
    const prefixColour = (l: string) => l.slice(0, l.indexOf('m', 1) + 1);
    expect(a).toMatch(ANSI);
    expect(prefixColour(a)).toBe(prefixColour(b));
    expect(prefixColour(a)).not.toBe(prefixColour(c));
    expect(c.replace(ANSI, '')).toMatch(/^gateway   \| \[[^\]]+\] ERROR: c$/);
  });

  it('is pretty on a terminal, JSON when piped, and LOG_FORMAT decides when set', () => {
    expect(chooseLogFormat(undefined, { isTTY: true })).toBe('pretty');
    expect(chooseLogFormat(undefined, { isTTY: false })).toBe('json');
    expect(chooseLogFormat(undefined, {})).toBe('json');
    expect(chooseLogFormat('json', { isTTY: true })).toBe('json');
    expect(chooseLogFormat('pretty', { isTTY: false })).toBe('pretty');
  });
});
