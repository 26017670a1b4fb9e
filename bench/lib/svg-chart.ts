/** One bar: a target's figure in one workload. */
export interface Bar {
  label: string;
  value: number;
  /** Drawn in the accent colour (our gateway). */
  highlight?: boolean;
}

export interface BarChart {
  title: string;
  /** What the value is, with its unit ("requests/s", "p99 ms"). */
  unit: string;
  bars: Bar[];
}

const WIDTH = 640;
const BAR_HEIGHT = 22;
const GAP = 8;
const LABEL_WIDTH = 150;
const TOP = 40;
const VALUE_ROOM = 80;

const escapeXml = (s: string) => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!);

const formatValue = (v: number) => (v >= 100 ? String(Math.round(v)) : v >= 10 ? v.toFixed(1) : v.toFixed(2));

/**
 * A horizontal bar chart as a standalone SVG document (no scripts, no external references, so it renders
 * the same on GitHub and in any viewer): one bar per target, scaled to the largest value, each labelled
 * with its figure.
 */
export function barChartSvg(chart: BarChart): string {
  const max = Math.max(0, ...chart.bars.map((b) => b.value));
  const plot = WIDTH - LABEL_WIDTH - VALUE_ROOM;
  const height = TOP + chart.bars.length * (BAR_HEIGHT + GAP) + GAP;
  const rows = chart.bars.map((b, i) => {
    const y = TOP + i * (BAR_HEIGHT + GAP);
    const w = max > 0 ? Math.max(1, (Math.max(0, b.value) / max) * plot) : 1;
    const text = y + BAR_HEIGHT / 2 + 4;
    return [
      `<text x="${LABEL_WIDTH - 8}" y="${text}" text-anchor="end">${escapeXml(b.label)}</text>`,
      `<rect class="bar${b.highlight ? ' ours' : ''}" x="${LABEL_WIDTH}" y="${y}" width="${w.toFixed(1)}" height="${BAR_HEIGHT}"><title>${escapeXml(`${b.label}: ${formatValue(b.value)} ${chart.unit}`)}</title></rect>`,
      `<text x="${(LABEL_WIDTH + w + 6).toFixed(1)}" y="${text}">${escapeXml(formatValue(b.value))}</text>`,
    ].join('');
  });
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" role="img" aria-label="${escapeXml(`${chart.title} (${chart.unit})`)}">`,
    '<style>text{font:13px sans-serif;fill:#222}.title{font-weight:bold}.bar{fill:#9aa5b1}.ours{fill:#2f6fde}</style>',
    `<rect width="${WIDTH}" height="${height}" fill="#fff"/>`,
    `<text class="title" x="8" y="22">${escapeXml(`${chart.title} — ${chart.unit}`)}</text>`,
    ...rows,
    '</svg>',
    '',
  ].join('\n');
}
