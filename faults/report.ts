import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A measured count, or '-' where the column does not apply to the scenario (e.g. lost writes of a read-only load). */
export type Measure = number | '-' | string;

/** One line of the table the suite prints at the end (globalTeardown). */
export interface ScenarioRow {
  scenario: string;
  /** Client requests sent during the scenario (the bounded load, plus any retries and recovery probes). */
  requests: number;
  /** Client-visible failures (non-2xx or GraphQL errors) among them. */
  failed: number;
  /** Writes that answered success but are not in the database. */
  lostWrites: Measure;
  /**
   * Things that happened more than once where that could really happen: a record stored twice, a
   * purchase answered "new" twice, a notification or subscription event delivered twice.
   */
  duplicates: Measure;
  /** Writes that failed while in flight (the client cannot know whether they happened) and were retried by the client. */
  retried?: Measure;
  /** From the end of the fault (restart, unlock) until the system is whole again, in ms; '-' when not applicable. */
  recoveryMs: Measure;
  /** What "recovered" means for this row, and what else was seen. */
  note?: string;
}

/** Rows cross jest workers through a file; globalSetup names it in FAULTS_REPORT (workers inherit the env). */
export const reportFile = (): string => process.env.FAULTS_REPORT ?? join(tmpdir(), `dream-faults-${process.ppid}.jsonl`);

export function recordRow(row: ScenarioRow): void {
  appendFileSync(reportFile(), `${JSON.stringify(row)}\n`);
}

/** A row whose counts are filled in as the scenario measures them; a column never measured prints '-'. */
export function newRow(scenario: string): ScenarioRow {
  return {
    scenario,
    requests: 0,
    failed: 0,
    lostWrites: '-',
    duplicates: '-',
    retried: '-',
    recoveryMs: '-',
  };
}

/**
 * Runs a scenario's measuring part and records its row whatever happens (in a `finally`), so a
 * scenario that breaks still prints what it measured, with the error in its note. The test asserts
 * on what `measure` returns only afterwards: the table is a measurement, not a list of passed tests.
 */
export async function measured<T>(row: ScenarioRow, measure: (row: ScenarioRow) => Promise<T>): Promise<T> {
  try {
    return await measure(row);
  } catch (err) {
    row.note = `scenario broke: ${(err as Error).message.split('\n')[0]}${row.note ? `; ${row.note}` : ''}`;
    throw err;
  } finally {
    recordRow(row);
  }
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

const cell = (m: Measure | undefined): string => (m === undefined ? '-' : String(m));

/** A Markdown table (it reads fine in a terminal and pastes into docs/reliability.md as is). */
export function formatTable(rows: ScenarioRow[]): string {
  const head = ['scenario', 'requests sent', 'failed', 'lost writes', 'duplicates', 'in-flight failures retried', 'recovery time', 'notes'];
  const lines = rows.map((r) => [
    r.scenario,
    String(r.requests),
    String(r.failed),
    cell(r.lostWrites),
    cell(r.duplicates),
    cell(r.retried),
    typeof r.recoveryMs === 'number' ? `${(r.recoveryMs / 1000).toFixed(2)} s` : cell(r.recoveryMs),
    r.note ?? '',
  ]);
  const all = [head, ...lines];
  const widths = head.map((_, i) => Math.max(...all.map((l) => l[i].length)));
  const fmt = (l: string[]) => `| ${l.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
  return [fmt(head), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...lines.map(fmt)].join('\n');
}
