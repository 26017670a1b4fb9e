/**
 * `npm run test:mutation`: StrykerJS over the modules where a silent bug costs most (stryker.config.mjs),
 * one module at a time (each run has its own report, so a module's result stands even if a later one is
 * stopped), then a table per module and, as the very last line, `mutation score: X.XX %` over all of
 * them. Not part of CI: minutes of one core (concurrency 1, unit-level tests only). Exits 1 below 80 %.
 * `npm run test:mutation -- "login limit"` runs the named modules only; `-- --from-reports` runs nothing and
 * prints the table from the reports the last run of each module left in reports/mutation/.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const ROOT = resolve(__dirname, '..');
const THRESHOLD = 80;
const slug = (name: string) => name.replace(/[^a-z0-9]+/gi, '-');

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

export function moduleTable(reports: Array<[string, Report | undefined]>): { table: string; total: Tally } {
  const rows: string[][] = [];
  const total = empty();
  const cells = (name: string, t: Tally) => [name, score(t).toFixed(2), String(t.killed), String(t.timeout), String(t.survived), String(t.noCoverage), String(t.errors)];
  for (const [name, report] of reports) {
    if (!report) {
      rows.push([name, 'not run', '', '', '', '', '']);
      continue;
    }
    const files = Object.keys(report.files).sort();
    const mod = empty();
    for (const f of files) tally(report.files[f].mutants, mod);
    tally(files.flatMap((f) => report.files[f].mutants), total);
    rows.push(cells(name, mod));
    for (const f of files) rows.push(cells(`  ${f}`, tally(report.files[f].mutants)));
  }
  rows.push(cells('all modules', total));
  const head = ['module', '% score', 'killed', 'timeout', 'survived', 'no coverage', 'errors'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const fmt = (r: string[]) => `| ${r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(' | ')} |`;
  const table = [fmt(head), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(fmt)].join('\n');
  return { table, total };
}

async function main(): Promise<void> {
  const { MODULES } = (await import(pathToFileURL(join(ROOT, 'stryker.config.mjs')).href)) as { MODULES: Record<string, string[]> };
  const args = process.argv.slice(2);
  const fromReports = args.includes('--from-reports');
  const wanted = args.filter((a) => a !== '--from-reports');
  const names = Object.keys(MODULES).filter((n) => wanted.length === 0 || wanted.includes(n));
  if (names.length === 0) throw new Error(`no such module; the modules are: ${Object.keys(MODULES).join(', ')}`);
  const reports: Array<[string, Report | undefined]> = [];
  let failed = false;
  for (const name of names) {
    const file = join(ROOT, 'reports/mutation', `${slug(name)}.json`);
    if (fromReports) {
      reports.push([name, existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Report) : undefined]);
      continue;
    }
    rmSync(file, { force: true });
    console.log(`\n=== mutation testing: ${name} ===`);
    const run = spawnSync(process.execPath, [join(ROOT, 'node_modules/@stryker-mutator/core/bin/stryker.js'), 'run'], {
      cwd: ROOT,
      stdio: 'inherit',
      env: { ...process.env, STRYKER_MODULE: name },
    });
    if (run.status !== 0) failed = true;
    reports.push([name, existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Report) : undefined]);
  }
  const { table, total } = moduleTable(reports);
  const s = score(total);
  console.log(`\nMutation testing per module (threshold ${THRESHOLD} %):\n${table}\n`);
  console.log(`mutation score: ${s.toFixed(2)} %`);
  process.exit(!failed && reports.every(([, r]) => r) && s >= THRESHOLD ? 0 : 1);
}

if (require.main === module) {
  main().catch((err: unknown) => {
    console.error(err);
    console.log('mutation score: 0.00 %');
    process.exit(1);
  });
}
