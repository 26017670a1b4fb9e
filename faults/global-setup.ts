import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resetRows } from './report';

/** Runs once in jest's parent process: names the report file every worker appends to. */
export default function globalSetup(): void {
  process.env.FAULTS_REPORT = join(tmpdir(), `dream-faults-${process.pid}-${Date.now()}.jsonl`);
  process.env.FAULTS_STARTED = String(Date.now());
  resetRows(process.env.FAULTS_REPORT);
}
