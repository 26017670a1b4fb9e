/**
 * The k6 scripts under loadtest/ cannot run here (no k6 binary), so CI type-checks them against @types/k6
 * and checks that every journey the options name has the function k6 will call.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const ROOT = resolve(__dirname, '..');

describe('loadtest (k6)', () => {
  it('type-checks with tsc -p loadtest', () => {
    const tsc = require.resolve('typescript/bin/tsc');
    const res = spawnSync(process.execPath, [tsc, '-p', join(ROOT, 'loadtest'), '--noEmit'], { cwd: ROOT, encoding: 'utf8' });
    expect(res.stdout + res.stderr).toBe('');
    expect(res.status).toBe(0);
  }, 120_000);

  it('exports a function for every journey scenario', () => {
    const config = readFileSync(join(ROOT, 'loadtest/lib/config.ts'), 'utf8');
    const script = readFileSync(join(ROOT, 'loadtest/platform.ts'), 'utf8');
    const list = /export const JOURNEYS = \[([^\]]+)\]/.exec(config)?.[1] ?? '';
    const journeys = [...list.matchAll(/'([a-z_]+)'/g)].map((m) => m[1]);
    expect(journeys).toEqual(['auth', 'browse_rest', 'browse_graphql', 'create_course', 'buy_course', 'ws_list']);
    for (const j of journeys) expect(script).toMatch(new RegExp(`export function ${j}\\(`));
    expect(script).toMatch(/export const options = buildOptions\(\)/);
  });

  it('uses the spec request shapes', () => {
    const api = readFileSync(join(ROOT, 'loadtest/lib/api.ts'), 'utf8');
    for (const s of ['/api/user/signup', '/api/users/login', '/api/courses', '/api/course`', '/buy`', 'courseCathegory', '/graphql']) {
      expect(api).toContain(s);
    }
  });
});
