import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** One line of the table the suite prints at the end (globalTeardown). */
export interface ScenarioRow {
  scenario: string;
  /** Client requests sent during the scenario (the bounded load). */
  requests: number;
  /** Client-visible failures (non-2xx or GraphQL errors) among them. */
  failed: number;
  /** Writes that answered success but are not in the database; '-' when the scenario makes no writes. */
  lostWrites: number | string;
  /** Writes recorded more than once; '-' when the scenario makes no writes. */
  duplicates: number | string;
  /** From the end of the fault (restart, unlock) until the system is whole again, in ms; '-' when not applicable. */
  recoveryMs: number | string;
  /** What "recovered" means for this row. */
  note?: string;
}

/** Rows cross jest workers through a file; globalSetup names it in FAULTS_REPORT (workers inherit the env). */
export const reportFile = (): string => process.env.FAULTS_REPORT ?? join(tmpdir(), `dream-faults-${process.ppid}.jsonl`);

export function recordRow(row: ScenarioRow): void {
  appendFileSync(reportFile(), `${JSON.stringify(row)}\n`);
}

export function readRows(file = reportFile()): ScenarioRow[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as ScenarioRow);
}

export function resetRows(file = reportFile()): void {
  writeFileSync(file, '');
}

/** A Markdown table (it reads fine in a terminal and pastes into docs/reliability.md as is). */
export function formatTable(rows: ScenarioRow[]): string {
  const head = ['scenario', 'requests sent', 'failed', 'lost writes', 'duplicates', 'recovery time', 'recovered when'];
  const lines = rows.map((r) => [
    r.scenario,
    String(r.requests),
    String(r.failed),
    String(r.lostWrites),
    String(r.duplicates),
    typeof r.recoveryMs === 'number' ? `${(r.recoveryMs / 1000).toFixed(2)} s` : r.recoveryMs,
    r.note ?? '',
  ]);
  const all = [head, ...lines];
  const widths = head.map((_, i) => Math.max(...all.map((l) => l[i].length)));
  const fmt = (l: string[]) => `| ${l.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
  return [fmt(head), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...lines.map(fmt)].join('\n');
}
