import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { validate } from 'fast-xml-parser';
import { writeCharts } from '../bench/lib/charts';
import { summaryLines } from '../bench/lib/summary';
import { barChartSvg } from '../bench/lib/svg-chart';

const bars = (svg: string) => [...svg.matchAll(/<rect class="bar( ours)?" [^>]*width="([\d.]+)"/g)].map((m) => ({ ours: !!m[1], width: Number(m[2]) }));

describe('bench SVG charts', () => {
  it('renders well-formed XML with one bar per target, scaled to the largest, ours highlighted', () => {
    const svg = barChartSvg({
      title: 'read/unique <&> "quoted"',
      unit: 'requests/s',
      bars: [
        { label: 'gateway', value: 1200, highlight: true },
        { label: 'stock-gateway', value: 600 },
        { label: 'hive <router>', value: 0 },
      ],
    });
    expect(validate(svg)).toBe(true);
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    const drawn = bars(svg);
    expect(drawn).toHaveLength(3);
    expect(drawn.map((b) => b.ours)).toEqual([true, false, false]);
    expect(drawn[1].width).toBeCloseTo(drawn[0].width / 2, 0);
    expect(drawn[2].width).toBeGreaterThan(0); // a zero still shows as a sliver
    expect(svg).toContain('hive &lt;router&gt;');
    expect(svg).not.toMatch(/<script|href=/);
  });

  it('writes a requests/s and a p99 chart per workload, one bar per measured target', () => {
    const dir = mkdtempSync(join(tmpdir(), 'charts-'));
    try {
      const row = (workload: string, target: string, rps: number, p99: number) => ({ workload, target, rps, p50: 1, p99, errors: 0 });
      const files = writeCharts(
        [row('read/unique', 'gateway', 1000, 80), row('read/unique', 'stock-gateway', 500, 120), row('read/unique', 'hive-gateway', 0, 0), row('ws/fan-out', 'gateway', 4000, 70)],
        dir,
      );
      expect(files.map((f) => f.file).sort()).toEqual(['read-unique-p99.svg', 'read-unique-rps.svg', 'ws-fan-out-p99.svg', 'ws-fan-out-rps.svg']);
      expect(readdirSync(dir).sort()).toEqual(files.map((f) => f.file).sort());
      const rps = readFileSync(join(dir, 'read-unique-rps.svg'), 'utf8');
      expect(validate(rps)).toBe(true);
      expect(bars(rps)).toHaveLength(2); // the failed target has no figure, so no bar
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('bench summary lines', () => {
  it('prints the cache ratio only when both cache figures exist, then the identical and unique ratios', () => {
    const read = { gateway: { rps: 300, p99: 40 }, stock: { rps: 100, p99: 100 } };
    expect(summaryLines({ cache: { warm: { rps: 500, p99: 1 }, off: { rps: 100, p99: 1 } }, identical: read, unique: read })).toEqual([
      'cache: warm/off rps ratio: 5.00',
      'identical: gateway/stock-gateway rps ratio: 3.00, p99 ratio: 0.40',
      'gateway/stock-gateway rps ratio: 3.00, p99 ratio: 0.40',
    ]);
    expect(summaryLines({ cache: { warm: { rps: 500, p99: 1 } }, identical: read })).toEqual([
      'identical: gateway/stock-gateway rps ratio: 3.00, p99 ratio: 0.40',
      'gateway/stock-gateway rps ratio: n/a, p99 ratio: n/a',
    ]);
  });
});
