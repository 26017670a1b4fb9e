import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { formatTable, readRows, reportFile } from './report';

/** Prints the scenario table after the whole run and keeps a copy in faults/last-run.md (git-ignored). */
export default function globalTeardown(): void {
  const rows = readRows();
  if (rows.length === 0) return;
  const took = ((Date.now() - Number(process.env.FAULTS_STARTED ?? Date.now())) / 1000).toFixed(1);
  const table = formatTable(rows);
  process.stdout.write(`\nFault scenarios (bounded load, loopback, real processes) — suite took ${took} s\n${table}\n\n`);
  writeFileSync(join(__dirname, 'last-run.md'), `${table}\n`);
  rmSync(reportFile(), { force: true });
}
