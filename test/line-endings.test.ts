/**
 * Scripts keep LF line endings in every checkout: a Windows clone with core.autocrlf would otherwise turn
 * `#!/bin/sh` into `#!/bin/sh\r` and every container (entrypoint, Oracle init script) would fail to start.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const ROOT = resolve(__dirname, '..');
const git = (...args: string[]) => spawnSync('git', args, { cwd: ROOT, encoding: 'utf8' });
const inGit = git('rev-parse', '--is-inside-work-tree').stdout.trim() === 'true';

(inGit ? describe : describe.skip)('.gitattributes', () => {
  const tracked = git('ls-files', '-z').stdout.split('\0').filter(Boolean);
  // Everything a container or CI executes as a script: shebang files, shell scripts, Dockerfiles.
  const scripts = tracked.filter((f) => {
    if (/(^|\/)node_modules\//.test(f)) return false;
    if (/\.(sh|bash)$/.test(f) || /(^|\/)Dockerfile[^/]*$/.test(f) || f === '.ci/run') return true;
    try {
      return readFileSync(join(ROOT, f), 'utf8').startsWith('#!');
    } catch {
      return false;
    }
  });

  it('finds the scripts (entrypoint, Oracle init, CI, Dockerfile)', () => {
    expect(scripts).toEqual(expect.arrayContaining(['Dockerfile', 'deploy/docker-entrypoint.sh', 'deploy/oracle/init/01-create-schemas.sh', '.ci/run']));
  });

  it('checks every script out with LF, whatever core.autocrlf says', () => {
    const res = git('check-attr', 'eol', '--', ...scripts);
    const notLf = res.stdout
      .trim()
      .split('\n')
      .filter((line) => !line.endsWith(': eol: lf'));
    expect(notLf).toEqual([]);
  });

  it('has no CRLF in any script now', () => {
    expect(scripts.filter((f) => readFileSync(join(ROOT, f), 'utf8').includes('\r\n'))).toEqual([]);
  });
});
