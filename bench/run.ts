/**
 * `npm run bench` — side-by-side benchmarks on one machine in one run, so the ratios compare like with like.
 *
 * Boots the real topology with @dream/testenv (private redis-server, discovery, SQLite, 2 replicas of
 * each subgraph in their own processes), seeds it, then loads — one at a time, from autocannon on
 * loopback, warm-up first — our gateway and the baselines on the SAME subgraph instances: stock
 * @apollo/gateway, Hive Gateway (default and with the router runtime), the courses subgraph
 * directly and a bare node:http server. Every gateway run reports subgraph calls per client
 * request, counted by the subgraphs themselves (subgraph_graphql_requests_total).
 *
 * Flags: --smoke (tiny durations, checks the harness only), --duration S, --warmup S,
 * --connections N, --replicas N (2), --prewarm S, --event-rate R (graphql-ws events/s), --rounds N (interleaved rounds of the federated read; median), --targets a,b, --subs N (graphql-ws fan-out), --profile (our gateway under --cpu-prof), --profile-subgraphs,
 * --only a,b,... (workloads: read,tracing,overhead,cache,rest,ws,grpc,media), --no-docs.
 * Output: tables, bench/results/<stamp>.json (+ latest.json), docs/benchmarks.md's generated section and
 * its SVG charts (docs/bench/*.svg). The last lines printed are `summaryLines` (bench/lib/summary.ts).
 */
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { metricValue } from '@dream/common/testing';
import { Stack, REPO_ROOT, startOtlpSink, type ChildService } from '@dream/testenv';
import { routingUrlFor } from '../gateway/src/supergraph-manager';
import { load, sequential, type LoadResult, type LoadSpec } from './lib/load';
import { ProcWatch } from './lib/proc';
import { START_TIMEOUT_MS } from './lib/start';
import { writeCharts, type ChartFile } from './lib/charts';
import { summaryLines, type Figures } from './lib/summary';
import { markdownTable, textTable } from './lib/table';
import { gqlPost, seedData, startReplicas, waitForPools, type Replicas } from './lib/topology';
import type { Row } from './lib/types';
import { runExtraWorkloads, type ExtraContext } from './workloads';

// ---------- options ----------
const argv = process.argv.slice(2);
const flag = (name: string) => argv.includes(name);
const opt = (name: string, dflt: number) => {
  const i = argv.indexOf(name);
  return i >= 0 ? Number(argv[i + 1]) : dflt;
};
const SMOKE = flag('--smoke');
const DURATION = opt('--duration', SMOKE ? 1 : 8);
const WARMUP = opt('--warmup', SMOKE ? 0 : 2);
const CONNECTIONS = opt('--connections', SMOKE ? 10 : 50);
const SUBS = opt('--subs', SMOKE ? 50 : 2000);
const ROUNDS = opt('--rounds', SMOKE ? 1 : 3);
const PREWARM = opt('--prewarm', SMOKE ? 0 : 5);
/** Replicas per subgraph (2: every subgraph spread over two processes; 1 shows what spreading costs on a small machine). */
const REPLICAS = opt('--replicas', 2);
const EVENT_RATE = opt('--event-rate', SMOKE ? 5 : 2);
const PROFILE = flag('--profile');
/** `--profile-subgraphs`: every subgraph replica under --cpu-prof too (bench/results/profiles/). */
const PROFILE_SUBGRAPHS = flag('--profile-subgraphs');
const PROFILE_ARGS = ['--cpu-prof', `--cpu-prof-dir=${resolve(REPO_ROOT, 'bench/results/profiles')}`];
const strOpt = (name: string) => (argv.indexOf(name) >= 0 ? argv[argv.indexOf(name) + 1] : undefined);
/** Experiments: `--ours-env A=1,B=2` and `--ours-node "--flag ..."` for our gateway's process. */
const OURS_ENV = Object.fromEntries((strOpt('--ours-env') ?? '').split(',').filter(Boolean).map((kv) => kv.split('=') as [string, string]));
const OURS_NODE = (strOpt('--ours-node') ?? '').split(' ').filter(Boolean);
const onlyArg = argv.indexOf('--only') >= 0 ? argv[argv.indexOf('--only') + 1].split(',') : undefined;
const enabled = (w: string) => !onlyArg || onlyArg.includes(w);
const targetsArg = argv.indexOf('--targets') >= 0 ? argv[argv.indexOf('--targets') + 1].split(',') : undefined;
const targetEnabled = (t: string) => !targetsArg || targetsArg.includes(t);
const variantsArg = argv.indexOf('--variants') >= 0 ? argv[argv.indexOf('--variants') + 1].split(',') : ['identical', 'unique'];
const WRITE_DOCS = !SMOKE && !flag('--no-docs') && !onlyArg && !targetsArg;

// ---------- queries ----------
const READ_QUERY = 'query Read($first: Int!) { courses(first: $first) { id name price owner { username } } }';
const DIRECT_QUERY = 'query Read($first: Int!) { courses(first: $first) { id name price owner { id } } }';
const SINGLE_HOP = 'query Hop($first: Int!) { courses(first: $first) { id name price } }';
const COURSE_QUERY = 'query One($id: ID!) { course(id: $id) { id name price owner { username } } }';

/**
 * Our gateway's environment: one process (GATEWAY_WORKERS=1) unless `--ours-env` says otherwise, so it
 * is compared like for like with the single-process baselines. Every benchmark client is on loopback:
 * the per-address WebSocket caps are lifted (the 10,000-subscriber run).
 */
const OURS_GATEWAY_ENV = { ACCESS_LOG: 'false', GATEWAY_WORKERS: '1', WS_MAX_CONNECTIONS_PER_ADDRESS: '100000', MAX_SUBSCRIPTIONS_PER_ADDRESS: '100000', ...OURS_ENV };

const rows: Row[] = [];
const log = (...a: unknown[]) => console.error(...a); // progress on stderr; tables and ratios on stdout

async function main(): Promise<void> {
  const started = Date.now();
  const stack = await new Stack({ logLevel: 'warn' }).start();
  let exitCode = 0;
  try {
    log(`bench: topology in ${stack.dir}`);
    const replicas = await startReplicas(stack, REPLICAS, {}, { nodeArgs: PROFILE_SUBGRAPHS ? PROFILE_ARGS : [], timeoutMs: START_TIMEOUT_MS });
    const ours = await stack.spawnGateway(OURS_GATEWAY_ENV, {
      timeoutMs: START_TIMEOUT_MS,
      nodeArgs: [...OURS_NODE, ...(PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${resolve(REPO_ROOT, 'bench/results/profiles')}`] : [])],
    });
    await waitForPools(ours, REPLICAS);
    const seed = await seedData(ours.base);
    log(`bench: seeded ${seed.courseIds.length} courses by ${seed.owners} owners`);
    const supergraphFile = await writeBaselineSupergraph(stack, replicas);

    const counter = () => subgraphCalls(replicas.all);
    const ctx: Ctx = { stack, replicas, counter };

    if (enabled('read')) {
      // every gateway stays up (idle) while the others are loaded; rounds interleave the targets
      // so background noise on the machine spreads over all of them, and each row is the median round
      const targets: Array<[string, ChildService]> = [['gateway', ours]];
      const baselines: Array<[string, string, Record<string, string>]> = [
        ['stock-gateway', 'bench/baselines/stock-gateway.ts', {}],
        ['hive-gateway', 'bench/hive/gateway.ts', {}],
        ['hive-router', 'bench/hive/gateway.ts', { HIVE_ROUTER: '1' }],
      ];
      for (const [name, script, env] of baselines) {
        if (!targetEnabled(name)) continue;
        try {
          const svc = await stack.spawn(name, script, { SUPERGRAPH_FILE: supergraphFile, ...env }, { ready: graphqlReady, timeoutMs: START_TIMEOUT_MS });
          await checkRead(`${svc.base}/graphql`, { 'x-request-id': uniqueId() });
          targets.push([name, svc]);
        } catch (err) {
          log(`bench: ${name} failed: ${(err as Error).message}`);
          rows.push(failedRow('read/identical', name, err), failedRow('read/unique', name, err));
        }
      }
      await checkRead(`${ours.base}/graphql`, { 'x-request-id': uniqueId() });
      // JIT warm-up of every target on both variants before round 1 (a 2 s warm-up alone left round 1 slow)
      for (const [name, svc] of PREWARM > 0 ? targets : []) {
        log(`bench: pre-warming ${name}`);
        const url = `${svc.base}/graphql`;
        await load({ url, connections: CONNECTIONS, durationSec: PREWARM, warmupSec: 0, body: JSON.stringify({ query: READ_QUERY, variables: { first: 50 } }) });
        await load({
          url,
          connections: CONNECTIONS,
          durationSec: PREWARM,
          warmupSec: 0,
          perRequest: (n) => ({ body: JSON.stringify({ query: READ_QUERY, variables: { first: 41 + (n % 10) } }), headers: { 'x-request-id': uniqueId() } }),
        });
      }
      const samples = new Map<string, Row[]>();
      for (let round = 1; round <= ROUNDS; round++) {
        for (const variant of ['identical', 'unique'] as const) {
          if (!variantsArg.includes(variant)) continue;
          for (const [name, svc] of targets) {
            const row = await readWorkload(ctx, variant, name, svc);
            const k = `${row.workload}\n${name}`;
            samples.set(k, [...(samples.get(k) ?? []), row]);
          }
        }
      }
      for (const variant of ['identical', 'unique']) {
        for (const [name] of targets) {
          const median = medianRound(samples.get(`read/${variant}\n${name}`) ?? []);
          if (median) rows.push(median);
        }
      }
      for (const [name, svc] of targets) if (name !== 'gateway') await svc.stop();
      // the ceiling and the floor: the courses subgraph called directly (no owner username: that
      // field needs federation) and a bare node:http server answering a fixed body
      if (targetEnabled('courses-direct')) {
        await measure(ctx, 'read/identical', 'courses-direct', replicas.courses[0], {
          url: `${replicas.courses[0].base}/graphql`,
          body: JSON.stringify({ query: DIRECT_QUERY, variables: { first: 50 } }),
        });
      }
      if (targetEnabled('bare-node-http')) {
        const bare = await stack.spawn('bare-http', 'bench/baselines/bare-http.ts', {}, { healthPath: '/' });
        await measure(ctx, 'read/identical', 'bare-node-http', bare, { url: `${bare.base}/graphql`, body: '{}' }, { noCalls: true });
        await bare.stop();
      }
    }

    if (enabled('tracing')) await tracingWorkload(ctx, ours);

    if (enabled('overhead')) {
      const stock = await stack.spawn('stock-gateway-seq', 'bench/baselines/stock-gateway.ts', { SUPERGRAPH_FILE: supergraphFile }, { ready: graphqlReady, timeoutMs: START_TIMEOUT_MS });
      await overheadWorkload(ctx, ours, stock);
      await stock.stop();
    }
    const extra: ExtraContext = {
      stack,
      gateway: ours,
      replicas: replicas.all,
      seed,
      smoke: SMOKE,
      duration: DURATION,
      warmup: WARMUP,
      connections: CONNECTIONS,
      subs: SUBS,
      gatewayWorkers: Number(OURS_GATEWAY_ENV.GATEWAY_WORKERS) || 1,
      eventRate: EVENT_RATE,
      counter,
      rows,
      enabled,
      log,
    };
    await runExtraWorkloads(extra);
    // last: it restarts every replica with CACHE_ENABLED=false
    if (enabled('cache')) await cacheWorkload(ctx, ours, seed.courseIds, { ACCESS_LOG: 'false', ...OURS_ENV });

    printAndSave(started);
  } catch (err) {
    exitCode = 1;
    log('bench failed:', err);
  } finally {
    await stack.stop().catch((e) => log('stopping the stack:', e));
  }
  // smoke (CI): the harness must have produced every figure; speed is never asserted
  const broken = rows.filter((r) => r.note?.startsWith('failed') || (!r.note?.startsWith('pending') && r.rps <= 0));
  if (exitCode === 0 && broken.length) {
    log(`bench: ${broken.length} workload(s) produced no figure: ${broken.map((r) => `${r.workload}/${r.target}`).join(', ')}`);
    exitCode = 1;
  }
  if (exitCode === 0) printRatios();
  process.exit(exitCode);
}

// ---------- topology ----------
interface Ctx {
  stack: Stack;
  replicas: Replicas;
  counter: () => Promise<number>;
}

/** The supergraph our gateway composed (from its supergraph manager), pointed at replica 1 of each subgraph. */
async function writeBaselineSupergraph(stack: Stack, replicas: Replicas): Promise<string> {
  const gw = await stack.gateway();
  await gw.ready();
  let sdl = gw.supergraph.supergraphSdl!;
  await gw.stop();
  sdl = sdl.split(routingUrlFor('users')).join(`${replicas.users[0].base}/graphql`);
  sdl = sdl.split(routingUrlFor('courses')).join(`${replicas.courses[0].base}/graphql`);
  const file = join(stack.dir, 'supergraph.graphql');
  writeFileSync(file, sdl);
  return file;
}

async function graphqlReady(base: string): Promise<boolean> {
  const res = await fetch(`${base}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query: '{ __typename }' }),
    signal: AbortSignal.timeout(1000),
  }).catch(() => undefined);
  if (!res) return false;
  const text = await res.text();
  return res.status === 200 && text.includes('Query');
}

async function metricOf(base: string): Promise<number> {
  const res = await fetch(`${base}/metrics`, { signal: AbortSignal.timeout(5000) });
  return metricValue(await res.text(), 'subgraph_graphql_requests_total');
}

async function subgraphCalls(all: ChildService[]): Promise<number> {
  const counts = await Promise.all(all.map((s) => metricOf(s.base)));
  return counts.reduce((a, b) => a + b, 0);
}

// ---------- measuring ----------
let requestSeq = 0;
const uniqueId = () => `bench-${process.pid}-${++requestSeq}`;

async function measure(
  ctx: Ctx,
  workload: string,
  target: string,
  svc: ChildService,
  spec: Partial<LoadSpec> & { url: string },
  o: { noCalls?: boolean; connections?: number; sequential?: boolean; keep?: boolean } = {},
): Promise<Row> {
  log(`bench: ${workload} → ${target}`);
  let before = 0;
  let watch: ProcWatch | undefined;
  let subgraphWatches: ProcWatch[] = [];
  const between = async () => {
    before = o.noCalls ? 0 : await ctx.counter();
    watch = new ProcWatch(svc.pid);
    // a subgraph loaded directly is the target itself: not counted twice
    subgraphWatches = o.noCalls ? [] : ctx.replicas.all.filter((r) => r.pid !== svc.pid).map((r) => new ProcWatch(r.pid));
  };
  let result: LoadResult;
  if (o.sequential && spec.perRequest) {
    if (WARMUP > 0) await sequential(spec.url, spec.perRequest, WARMUP, 0);
    await between();
    result = await sequential(spec.url, spec.perRequest, DURATION, 0);
  } else {
    result = await load({ connections: o.connections ?? CONNECTIONS, durationSec: DURATION, warmupSec: WARMUP, ...spec }, between);
  }
  const usage = watch!.stop();
  const subgraphCpuMs = subgraphWatches.reduce((sum, w) => sum + w.stop().cpuMs, 0);
  const after = o.noCalls ? 0 : await ctx.counter();
  const row: Row = {
    workload,
    target,
    rps: result.rps,
    p50: result.p50,
    p99: result.p99,
    errors: result.errors + result.non2xx + result.timeouts,
    callsPerRequest: o.noCalls || !result.requests ? undefined : Math.round(((after - before) / result.requests) * 100) / 100,
    rssMb: usage.rssMb,
    cpuPercent: usage.cpuPercent,
    cpuMsPerRequest: result.requests ? Math.round((usage.cpuMs / result.requests) * 1000) / 1000 : undefined,
    subgraphCpuMsPerRequest: subgraphWatches.length && result.requests ? Math.round((subgraphCpuMs / result.requests) * 1000) / 1000 : undefined,
    raw: result,
  };
  if (!o.keep) rows.push(row);
  log(`  ${fmtRow(row)}`);
  return row;
}

function failedRow(workload: string, target: string, err: unknown): Row {
  return { workload, target, rps: 0, p50: 0, p99: 0, errors: 1, note: `failed: ${(err as Error).message}` };
}

/** Checks the answer is right (50 courses, every owner's username) before loading a target. */
async function checkRead(url: string, headers: Record<string, string> = {}): Promise<void> {
  const data = await gqlPost(url, READ_QUERY, { first: 50 }, headers);
  const list = data?.courses as Array<{ owner?: { username?: string } }> | undefined;
  if (!list || list.length !== 50 || list.some((c) => typeof c.owner?.username !== 'string')) {
    throw new Error(`${url} answered the federated read wrongly: ${JSON.stringify(data).slice(0, 200)}`);
  }
}

async function readWorkload(ctx: Ctx, variant: 'identical' | 'unique', target: string, svc: ChildService, durationSec = DURATION): Promise<Row> {
  const url = `${svc.base}/graphql`;
  if (variant === 'identical') {
    return measure(ctx, 'read/identical', target, svc, { url, body: JSON.stringify({ query: READ_QUERY, variables: { first: 50 } }) }, { keep: true });
  }
  return measure(
    ctx,
    'read/unique',
    target,
    svc,
    {
      url,
      durationSec,
      // distinct variables (first: 41..50) and a distinct forwarded x-request-id on every request
      perRequest: (n) => ({
        body: JSON.stringify({ query: READ_QUERY, variables: { first: 41 + (n % 10) } }),
        headers: { 'x-request-id': uniqueId() },
      }),
    },
    { keep: true },
  );
}

/**
 * The gateway's cost of tracing: the `unique` read through our gateway as it runs (tracing off) and
 * through a second gateway exporting every span over OTLP/HTTP to a sink this process runs, in
 * interleaved rounds (median). Only the gateway traces; the subgraphs run as before.
 */
async function tracingWorkload(ctx: Ctx, ours: ChildService): Promise<void> {
  const sink = await startOtlpSink();
  const traced = await ctx.stack.spawnGateway({ ...OURS_GATEWAY_ENV, OTEL_EXPORTER_OTLP_ENDPOINT: sink.url, OTEL_SERVICE_NAME: 'gateway-bench' }, { nodeArgs: OURS_NODE, timeoutMs: START_TIMEOUT_MS });
  try {
    await waitForPools(traced, REPLICAS);
    const targets: Array<[string, ChildService]> = [
      ['gateway', ours],
      ['gateway (tracing on)', traced],
    ];
    for (const [, svc] of targets) await checkRead(`${svc.base}/graphql`, { 'x-request-id': uniqueId() });
    if (PREWARM > 0) await readWorkload(ctx, 'unique', 'prewarm', traced, PREWARM);
    const runs = new Map<string, Row[]>();
    let spans = 0;
    let tracedRequests = 0;
    for (let round = 1; round <= ROUNDS; round++) {
      for (const [name, svc] of targets) {
        const before = sink.received.spans;
        const row = await readWorkload(ctx, 'unique', name, svc);
        row.workload = 'read/unique-tracing';
        if (svc === traced) {
          spans += sink.received.spans - before;
          tracedRequests += row.raw?.requests ?? 0;
        }
        runs.set(name, [...(runs.get(name) ?? []), row]);
      }
    }
    for (const [name] of targets) {
      const median = medianRound(runs.get(name) ?? []);
      if (!median) continue;
      if (name !== 'gateway') {
        median.note = [median.note, `OTLP/HTTP export to a local sink: ${tracedRequests ? (spans / tracedRequests).toFixed(1) : '-'} spans received per request (batched, SDK defaults)`].filter(Boolean).join('; ');
      }
      rows.push(median);
    }
  } finally {
    await traced.stop();
    await sink.stop();
  }
}

/** The median round by requests/s, its note listing every round. */
function medianRound(runs: Row[]): Row | undefined {
  if (!runs.length) return undefined;
  const sorted = [...runs].sort((a, b) => a.rps - b.rps);
  const median = sorted[Math.floor((sorted.length - 1) / 2)];
  if (runs.length > 1)
    median.note = `median of ${runs.length} rounds (rps ${runs.map((r) => r.rps).join(' / ')}; p99 ${runs.map((r) => r.p99).join(' / ')}; CPU ms/req ${runs.map((r) => r.cpuMsPerRequest ?? '-').join(' / ')}; subgraphs' CPU ms/req ${runs.map((r) => r.subgraphCpuMsPerRequest ?? '-').join(' / ')})`;
  return median;
}

/**
 * Gateway overhead: one request at a time (hrtime, sub-ms), a single-hop query (courses only), the
 * courses subgraph directly vs through our gateway and stock @apollo/gateway: the p50 difference is
 * what the gateway adds.
 */
async function overheadWorkload(ctx: Ctx, ours: ChildService, stock?: ChildService): Promise<void> {
  const body = JSON.stringify({ query: SINGLE_HOP, variables: { first: 50 } });
  const perRequest = () => ({ body, headers: { 'x-request-id': uniqueId() } });
  const seq = { sequential: true };
  const direct = await measure(ctx, 'overhead/sequential', 'courses-direct', ctx.replicas.courses[0], { url: `${ctx.replicas.courses[0].base}/graphql`, perRequest }, seq);
  const gw = await measure(ctx, 'overhead/sequential', 'gateway', ours, { url: `${ours.base}/graphql`, perRequest }, seq);
  gw.note = `p50 overhead over direct ${(gw.p50 - direct.p50).toFixed(2)} ms`;
  if (stock) {
    const st = await measure(ctx, 'overhead/sequential', 'stock-gateway', stock, { url: `${stock.base}/graphql`, perRequest }, seq);
    st.note = `p50 overhead over direct ${(st.p50 - direct.p50).toFixed(2)} ms`;
  }
}

/**
 * course(id) with owner through our gateway: a second gateway with the entity cache on (warmed
 * first) against ours with it off, on the same replicas (their Redis cache-aside on); then every
 * replica restarted with CACHE_ENABLED=false for the no-cache floor.
 */
async function cacheWorkload(ctx: Ctx, ours: ChildService, ids: string[], env: Record<string, string>): Promise<void> {
  const specFor = (gw: ChildService) => ({
    url: `${gw.base}/graphql`,
    perRequest: (n: number) => ({
      body: JSON.stringify({ query: COURSE_QUERY, variables: { id: ids[n % ids.length] } }),
      headers: { 'x-request-id': uniqueId() },
    }),
  });
  const cached = await ctx.stack.spawnGateway({ ...env, ENTITY_CACHE: 'true' });
  let warm: Row;
  try {
    await waitForPools(cached, REPLICAS);
    for (const id of ids) await gqlPost(`${cached.base}/graphql`, COURSE_QUERY, { id });
    warm = await measure(ctx, 'course(id)/cache-warm', 'gateway', cached, specFor(cached));
  } finally {
    await cached.stop();
  }
  const off = await measure(ctx, 'course(id)/cache-off', 'gateway', ours, specFor(ours));
  warm.note = `entity cache warm: ${(warm.rps / Math.max(off.rps, 1)).toFixed(2)}× the rps with it off`;
  off.note = 'entity cache off (subgraph Redis cache-aside on)';
  const spec = specFor(ours);
  log('bench: restarting the replicas with CACHE_ENABLED=false');
  const old = ctx.replicas.all;
  await Promise.all(old.map((s) => s.stop()));
  ctx.replicas = await startReplicas(ctx.stack, REPLICAS, { CACHE_ENABLED: 'false' }, { nodeArgs: PROFILE_SUBGRAPHS ? PROFILE_ARGS : [], timeoutMs: START_TIMEOUT_MS });
  ctx.counter = () => subgraphCalls(ctx.replicas.all);
  await waitForPools(ours, REPLICAS);
  const cold = await measure(ctx, 'course(id)/no-cache', 'gateway', ours, spec);
  cold.note = 'entity cache off, subgraph caches off';
}

// ---------- output ----------
const fmtRow = (r: Row) =>
  `${r.target}: ${r.rps} rps, p50 ${r.p50} ms, p99 ${r.p99} ms, errors ${r.errors}, calls/req ${r.callsPerRequest ?? '-'}, rss ${r.rssMb ?? '-'} MB, cpu ${r.cpuPercent ?? '-'}% (${r.cpuMsPerRequest ?? '-'} ms/req)`;

const find = (workload: string, target: string) => rows.find((r) => r.workload === workload && r.target === target && r.rps > 0);

function ratioCells(r: Row): string {
  if (r.target !== 'gateway') return '';
  const others = rows.filter((o) => o.workload === r.workload && o.target !== 'gateway' && o.rps > 0 && o.target !== 'bare-node-http');
  return others.map((o) => `${o.target} ${(r.rps / o.rps).toFixed(2)}× rps, ${(r.p99 / Math.max(o.p99, 0.01)).toFixed(2)}× p99`).join('; ');
}

function tableRows(workload: string) {
  return rows
    .filter((r) => r.workload === workload)
    .map((r) => [
      r.target,
      r.note?.startsWith('pending') || r.note?.startsWith('failed') ? '-' : String(r.rps),
      String(r.p50),
      String(r.p99),
      String(r.errors),
      r.callsPerRequest === undefined ? '-' : String(r.callsPerRequest),
      r.rssMb === undefined ? '-' : String(r.rssMb),
      r.cpuPercent === undefined ? '-' : String(r.cpuPercent),
      r.cpuMsPerRequest === undefined ? '-' : String(r.cpuMsPerRequest),
      [ratioCells(r), r.note ?? ''].filter(Boolean).join('; '),
    ]);
}

const HEAD = ['target', 'req/s', 'p50 ms', 'p99 ms', 'errors', 'subgraph calls/req', 'RSS MB', 'CPU %', 'CPU ms/req', 'ours vs baseline / note'];

function machine() {
  return {
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    memoryGb: Math.round((totalmem() / 1024 ** 3) * 10) / 10,
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
  };
}

function printAndSave(started: number): void {
  const workloads = [...new Set(rows.map((r) => r.workload))];
  const m = machine();
  for (const w of workloads) {
    console.log(`\n## ${w}`);
    console.log(textTable(HEAD, tableRows(w)));
  }
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const dir = resolve(REPO_ROOT, 'bench/results');
  mkdirSync(dir, { recursive: true });
  const settings = { smoke: SMOKE, durationSec: DURATION, warmupSec: WARMUP, connections: CONNECTIONS, rounds: ROUNDS, subs: SUBS, argv };
  const json = JSON.stringify({ when: new Date().toISOString(), machine: m, settings, rows, tookSec: Math.round((Date.now() - started) / 1000) }, null, 2);
  const name = SMOKE ? 'smoke-latest.json' : onlyArg || targetsArg ? `partial-${stamp}.json` : `${stamp}.json`;
  writeFileSync(join(dir, name), json);
  if (!SMOKE && !onlyArg && !targetsArg) writeFileSync(join(dir, 'latest.json'), json);
  log(`bench: raw results in bench/results/${name}`);
  if (WRITE_DOCS) writeDocs(m, settings, workloads, name, writeCharts(rows, resolve(REPO_ROOT, CHARTS_DIR)));
}

/** The charts of the last full run, shown by docs/benchmarks.md (paths relative to docs/). */
const CHARTS_DIR = 'docs/bench';

const START = '<!-- bench:generated:start -->';
const END = '<!-- bench:generated:end -->';

function writeDocs(m: ReturnType<typeof machine>, settings: Record<string, unknown>, workloads: string[], file: string, charts: ChartFile[]): void {
  const path = resolve(REPO_ROOT, 'docs/benchmarks.md');
  const parts = [
    START,
    `Generated by \`npm run bench\` on ${new Date().toISOString()} (raw: \`bench/results/${file}\`).`,
    '',
    `Machine: ${m.cores} cores (${m.cpu}), ${m.memoryGb} GB memory, Node ${m.node}, ${m.platform}. Settings: every gateway pre-warmed ${PREWARM} s per variant, then ${DURATION} s measured after a ${WARMUP} s warm-up, ${CONNECTIONS} connections (autocannon, loopback), one target loaded at a time; federated read: ${ROUNDS} interleaved rounds, median shown.`,
    '',
  ];
  for (const w of workloads) {
    const images = charts.filter((c) => c.workload === w).map((c) => `![${w}: ${c.metric === 'rps' ? 'requests/s' : 'p99 ms'} per target](bench/${c.file})`);
    parts.push(`### ${w}`, '', markdownTable(HEAD, tableRows(w)), '', ...(images.length ? [images.join(' '), ''] : []));
  }
  parts.push('```', ...finalLines(), '```', END);
  const generated = parts.join('\n');
  const current = existsSync(path) ? readFileSync(path, 'utf8') : `# Benchmarks\n\n${START}\n${END}\n`;
  const s = current.indexOf(START);
  const e = current.indexOf(END);
  const next = s >= 0 && e > s ? current.slice(0, s) + generated + current.slice(e + END.length) : `${current}\n${generated}\n`;
  writeFileSync(path, next);
  void settings;
}

const figures = (r: Row | undefined): Figures | undefined => (r ? { rps: r.rps, p99: r.p99 } : undefined);

/** The summary lines from this run's rows (a workload that did not run gives no figure). */
function finalLines(): string[] {
  return summaryLines({
    cache: { warm: figures(find('course(id)/cache-warm', 'gateway')), off: figures(find('course(id)/cache-off', 'gateway')) },
    identical: { gateway: figures(find('read/identical', 'gateway')), stock: figures(find('read/identical', 'stock-gateway')) },
    unique: { gateway: figures(find('read/unique', 'gateway')), stock: figures(find('read/unique', 'stock-gateway')) },
  });
}

function printRatios(): void {
  console.log('');
  for (const l of finalLines()) console.log(l);
}

void main();
