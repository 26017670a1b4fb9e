import autocannon from 'autocannon';

export interface LoadSpec {
  url: string;
  connections: number;
  durationSec: number;
  warmupSec: number;
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  /** Fixed body, or a function building every request's body and extra headers. */
  body?: string;
  perRequest?: (n: number) => { body: string; headers?: Record<string, string> };
}

export interface LoadResult {
  requests: number;
  rps: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  errors: number;
  non2xx: number;
  timeouts: number;
}

function cannon(spec: LoadSpec, durationSec: number): Promise<autocannon.Result> {
  let n = 0;
  const opts: autocannon.Options = {
    url: spec.url,
    connections: spec.connections,
    duration: durationSec,
    method: spec.method ?? 'POST',
    headers: { 'content-type': 'application/json', ...spec.headers },
    body: spec.body,
    timeout: 10,
  };
  if (spec.perRequest) {
    const build = spec.perRequest;
    opts.requests = [
      {
        setupRequest: (req) => {
          const { body, headers } = build(n++);
          return { ...req, body, headers: { ...req.headers, ...headers } };
        },
      },
    ];
  }
  return new Promise((resolve, reject) => {
    autocannon(opts, (err, result) => (err ? reject(err) : resolve(result)));
  });
}

/** A warm-up (discarded), then the measured run; `between` runs after the warm-up (read counters there). */
export async function load(spec: LoadSpec, between?: () => Promise<void>): Promise<LoadResult> {
  if (spec.warmupSec > 0) await cannon(spec, spec.warmupSec);
  await between?.();
  const r = await cannon(spec, spec.durationSec);
  return {
    requests: r.requests.total,
    rps: Math.round(r.requests.average * 10) / 10,
    p50: r.latency.p50,
    p90: r.latency.p90,
    p99: r.latency.p99,
    max: r.latency.max,
    errors: r.errors,
    non2xx: r.non2xx,
    timeouts: r.timeouts,
  };
}
