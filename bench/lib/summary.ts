/** A target's figures in one workload, as the summary needs them. */
export interface Figures {
  rps: number;
  p99: number;
}

/**
 * What the last lines of a run are computed from. Every figure is optional: a workload that did not run
 * (or a baseline that failed) prints no line, or `n/a` for the two read lines that are always expected.
 */
export interface SummaryFigures {
  /** `course(id)` through our gateway with its cache warm, and with the cache off. */
  cache?: { warm?: Figures; off?: Figures };
  /** The read workloads: ours and stock @apollo/gateway. */
  identical?: { gateway?: Figures; stock?: Figures };
  unique?: { gateway?: Figures; stock?: Figures };
}

const ratio = (a: Figures | undefined, b: Figures | undefined) =>
  a && b && a.rps > 0 && b.rps > 0
    ? `rps ratio: ${(a.rps / b.rps).toFixed(2)}, p99 ratio: ${(a.p99 / Math.max(b.p99, 0.01)).toFixed(2)}`
    : 'rps ratio: n/a, p99 ratio: n/a';

/**
 * The last lines a bench run prints, in this order: the cache's warm/off ratio (only when both figures
 * exist), then ours against stock @apollo/gateway on the `identical` read and on the `unique` read.
 */
export function summaryLines(f: SummaryFigures): string[] {
  const lines: string[] = [];
  const { warm, off } = f.cache ?? {};
  if (warm && off && warm.rps > 0 && off.rps > 0) lines.push(`cache: warm/off rps ratio: ${(warm.rps / off.rps).toFixed(2)}`);
  lines.push(`identical: gateway/stock-gateway ${ratio(f.identical?.gateway, f.identical?.stock)}`);
  lines.push(`gateway/stock-gateway ${ratio(f.unique?.gateway, f.unique?.stock)}`);
  return lines;
}
