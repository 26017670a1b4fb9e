import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { barChartSvg } from './svg-chart';
import type { Row } from './types';

/** A chart written to disk: its file name (in the charts folder) and what it shows. */
export interface ChartFile {
  file: string;
  workload: string;
  metric: 'rps' | 'p99';
}

const slug = (s: string) => s.replace(/[^A-Za-z0-9]+/g, '-').replace(/^-|-$/g, '').toLowerCase();

/**
 * Two SVG charts per workload (requests/s and p99 per target, ours highlighted) into `dir`, replacing the
 * charts of an earlier run; rows without a figure (failed, pending) are left out.
 */
export function writeCharts(rows: Row[], dir: string, ours = 'gateway'): ChartFile[] {
  mkdirSync(dir, { recursive: true });
  for (const f of readdirSync(dir)) if (f.endsWith('.svg')) rmSync(join(dir, f));
  const written: ChartFile[] = [];
  for (const workload of [...new Set(rows.map((r) => r.workload))]) {
    const measured = rows.filter((r) => r.workload === workload && r.rps > 0);
    if (!measured.length) continue;
    for (const metric of ['rps', 'p99'] as const) {
      const file = `${slug(workload)}-${metric}.svg`;
      const svg = barChartSvg({
        title: workload,
        unit: metric === 'rps' ? 'requests/s' : 'p99 ms',
        bars: measured.map((r) => ({ label: r.target, value: r[metric], highlight: r.target === ours })),
      });
      writeFileSync(join(dir, file), svg);
      written.push({ file, workload, metric });
    }
  }
  return written;
}
