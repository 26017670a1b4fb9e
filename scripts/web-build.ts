import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '@dream/common';

/**
 * Builds the web app (web/dist) when it is not built yet, quietly: its output is shown only if the
 * build fails. A failed build does not stop the platform (the API does not need it); the gateway then
 * answers `/` with a message saying how to build it.
 */
export async function ensureWebBuild(root: string, log: Logger): Promise<void> {
  if (existsSync(join(root, 'web', 'dist', 'index.html'))) return;
  log.info('building the web app (first start only, a few seconds)');
  const output: Buffer[] = [];
  const code = await new Promise<number | null>((done) => {
    const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
    const proc = spawn(npm, ['run', 'build', '-w', 'web'], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    proc.stdout.on('data', (b: Buffer) => output.push(b));
    proc.stderr.on('data', (b: Buffer) => output.push(b));
    proc.on('error', (err) => {
      output.push(Buffer.from(String(err)));
      done(null);
    });
    proc.on('exit', (c) => done(c));
  });
  if (code === 0) return;
  process.stderr.write(Buffer.concat(output));
  log.warn({ code }, 'the web app could not be built (see above); the API runs without it');
}
