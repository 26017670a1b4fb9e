import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatTable, measured, newRow, readRows } from './report';

/** The table's own rules: rows recorded whatever happens, '-' for what was not measured. */
describe('fault report', () => {
  const saved = process.env.FAULTS_REPORT;
  let dir = '';
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'faults-report-'));
    process.env.FAULTS_REPORT = join(dir, 'rows.jsonl');
  });
  afterEach(() => {
    process.env.FAULTS_REPORT = saved;
    rmSync(dir, { recursive: true, force: true });
  });

  it('records the row of a scenario that breaks, with what it measured and the error', async () => {
    const row = newRow('breaks');
    await expect(
      measured(row, async (r) => {
        r.requests = 10;
        r.failed = 2;
        throw new Error('boom\nstack');
      }),
    ).rejects.toThrow('boom');
    expect(readRows()).toEqual([{ scenario: 'breaks', requests: 10, failed: 2, lostWrites: '-', duplicates: '-', retried: '-', recoveryMs: '-', note: 'scenario broke: boom' }]);
  });

  it('records the row of a scenario that measures fine and returns its result for the assertions', async () => {
    const row = newRow('fine');
    const got = await measured(row, async (r) => {
      r.lostWrites = 0;
      r.duplicates = 1;
      r.recoveryMs = 1500;
      return 42;
    });
    expect(got).toBe(42);
    expect(readRows()).toHaveLength(1);
    const table = formatTable(readRows()).split('\n');
    expect(table[0]).toMatch(/^\| scenario \| requests sent \| failed \| lost writes \| duplicates \| in-flight failures retried \| recovery time \| notes \|$/);
    expect(table[2].split('|').map((c) => c.trim())).toEqual(['', 'fine', '0', '0', '0', '1', '-', '1.50 s', '', '']);
  });
});
