const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * One sample of `name` in a Prometheus text exposition: the unlabelled series, or the one with exactly
 * `labels`. Throws when the metric family is not declared at all (a renamed or unregistered metric must
 * fail the test, not read as 0). A declared family without the labelled series reads 0: prom-client
 * prints a labelled counter's series only from its first increment.
 */
export function metricValue(text: string, name: string, labels?: Record<string, string>): number {
  if (!new RegExp(`^# TYPE ${escape(name)} `, 'm').test(text)) throw new Error(`metric ${name} is not in the exposition`);
  const series = labels ? `{${Object.entries(labels).map(([k, v]) => `${k}="${v}"`).join(',')}}` : '';
  const m = new RegExp(`^${escape(name)}${escape(series)} (\\S+)$`, 'm').exec(text);
  if (!m) {
    if (labels) return 0;
    throw new Error(`metric ${name} has no unlabelled sample`);
  }
  const v = Number(m[1]);
  if (Number.isNaN(v)) throw new Error(`metric ${name}${series} is not a number: ${m[1]}`);
  return v;
}
