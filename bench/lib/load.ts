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
  perRequest?: (n: number) => { body: string; headers?: Record<string, string>; method?: 'GET' | 'POST' | 'DELETE'; path?: string };
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
  /** Response bytes (headers and bodies) per second, as autocannon counts them; absent for `sequential`. */
  bytesPerSec?: number;
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
          const { body, headers, method, path } = build(n++);
          return { ...req, body, headers: { ...req.headers, ...headers }, ...(method ? { method } : {}), ...(path ? { path } : {}) };
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
    bytesPerSec: r.throughput.average,
  };
}

/**
 * One request at a time on one kept-alive connection, timed with hrtime: sub-millisecond
 * percentiles (autocannon's histogram rounds to whole milliseconds), for the gateway-overhead figure.
 */
export async function sequential(
  url: string,
  perRequest: (n: number) => { body: string; headers?: Record<string, string> },
  durationSec: number,
  warmupSec: number,
): Promise<LoadResult> {
  const { Pool } = await import('undici');
  const u = new URL(url);
  const pool = new Pool(u.origin, { connections: 1, pipelining: 1 });
  let n = 0;
  let errors = 0;
  const once = async (): Promise<number> => {
    const { body, headers } = perRequest(n++);
    const t0 = process.hrtime.bigint();
    const res = await pool.request({ path: u.pathname, method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
    await res.body.text();
    if (res.statusCode !== 200) errors++;
    return Number(process.hrtime.bigint() - t0) / 1e6;
  };
  const warmEnd = Date.now() + warmupSec * 1000;
  while (Date.now() < warmEnd) await once();
  errors = 0;
  const samples: number[] = [];
  const t0 = Date.now();
  const end = t0 + durationSec * 1000;
  while (Date.now() < end) samples.push(await once());
  const seconds = (Date.now() - t0) / 1000;
  await pool.close();
  samples.sort((a, b) => a - b);
  const pct = (p: number) => Math.round(samples[Math.min(samples.length - 1, Math.floor((p / 100) * samples.length))] * 100) / 100;
  return {
    requests: samples.length,
    rps: Math.round((samples.length / seconds) * 10) / 10,
    p50: pct(50),
    p90: pct(90),
    p99: pct(99),
    max: pct(100),
    errors,
    non2xx: 0,
    timeouts: 0,
  };
}
