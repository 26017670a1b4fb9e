/**
 * `npm run test:mutation`: StrykerJS over the modules where a silent bug costs most (stryker.config.json),
 * then a table per module and, as the very last line, `mutation score: X.XX %` over all of them.
 * Not part of CI: it takes minutes of CPU (concurrency 1, unit-level tests only). Exits 1 below 80 %.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';

const ROOT = resolve(__dirname, '..');
const REPORT = join(ROOT, 'reports/mutation/mutation.json');
const THRESHOLD = 80;

/** Which module each mutated file belongs to (the order is the table's). */
const MODULES: Array<[string, RegExp]> = [
  ['token verification and denylist', /packages\/common\/src\/(jwt|auth)\.ts$/],
  ['in-flight merge key', /gateway\/src\/data-source\.ts$/],
  ['round-robin and breaker', /packages\/common\/src\/(round-robin|breaker)\.ts$/],
  ['login limit', /subgraphs\/users\/src\/login-rate-limit\.ts$/],
  ['purchase idempotency', /subgraphs\/courses\/src\/(purchase|data\/enrollments-repository)\.ts$/],
];

interface MutantResult {
  status: 'Killed' | 'Survived' | 'NoCoverage' | 'Timeout' | 'CompileError' | 'RuntimeError' | 'Ignored' | 'Pending';
}
interface Report {
  files: Record<string, { mutants: MutantResult[] }>;
}

export interface Tally {
  killed: number;
  survived: number;
  noCoverage: number;
  timeout: number;
  errors: number;
}

const empty = (): Tally => ({ killed: 0, survived: 0, noCoverage: 0, timeout: 0, errors: 0 });

export function tally(mutants: MutantResult[], into = empty()): Tally {
  for (const m of mutants) {
    if (m.status === 'Killed') into.killed++;
    else if (m.status === 'Survived') into.survived++;
    else if (m.status === 'NoCoverage') into.noCoverage++;
    else if (m.status === 'Timeout') into.timeout++;
    else if (m.status === 'CompileError' || m.status === 'RuntimeError') into.errors++;
  }
  return into;
}

/** Stryker's definition: detected (killed + timeout) over valid mutants (detected + survived + no coverage). */
export function score(t: Tally): number {
  const valid = t.killed + t.timeout + t.survived + t.noCoverage;
  return valid === 0 ? 0 : ((t.killed + t.timeout) / valid) * 100;
}

export function moduleTable(report: Report): { table: string; total: Tally } {
  const rows: string[][] = [];
  const total = empty();
  for (const [name, re] of MODULES) {
    const files = Object.keys(report.files).filter((f) => re.test(f.replace(/\\/g, '/')));
    const mod = empty();
    for (const f of files) tally(report.files[f].mutants, mod);
    tally(files.flatMap((f) => report.files[f].mutants), total);
    rows.push([name, score(mod).toFixed(2), String(mod.killed), String(mod.timeout), String(mod.survived), String(mod.noCoverage), String(mod.errors)]);
    for (const f of files) {
      const t = tally(report.files[f].mutants);
      rows.push([`  ${f}`, score(t).toFixed(2), String(t.killed), String(t.timeout), String(t.survived), String(t.noCoverage), String(t.errors)]);
    }
  }
  rows.push(['all modules', score(total).toFixed(2), String(total.killed), String(total.timeout), String(total.survived), String(total.noCoverage), String(total.errors)]);
  const head = ['module', '% score', 'killed', 'timeout', 'survived', 'no coverage', 'errors'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const fmt = (r: string[]) => `| ${r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(' | ')} |`;
  const table = [fmt(head), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(fmt)].join('\n');
  return { table, total };
}

function main(): void {
  rmSync(REPORT, { force: true });
  const run = spawnSync(process.execPath, [join(ROOT, 'node_modules/@stryker-mutator/core/bin/stryker.js'), 'run', ...process.argv.slice(2)], {
    cwd: ROOT,
    stdio: 'inherit',
  });
  if (!existsSync(REPORT)) {
    console.error(`Stryker wrote no report (exit ${run.status}); see its output above.`);
    console.log('mutation score: 0.00 %');
    process.exit(1);
  }
  const { table, total } = moduleTable(JSON.parse(readFileSync(REPORT, 'utf8')) as Report);
  const s = score(total);
  console.log(`\nMutation testing per module (threshold ${THRESHOLD} %):\n${table}\n`);
  console.log(`mutation score: ${s.toFixed(2)} %`);
  process.exit(run.status === 0 && s >= THRESHOLD ? 0 : 1);
}

if (require.main === module) main();
