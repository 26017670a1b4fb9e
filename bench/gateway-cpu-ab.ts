/**
 * Gateway CPU per request on the `unique` federated read, this checkout (A) against another one (B).
 *
 * `npx tsx bench/gateway-cpu-ab.ts --other <checkout> [--rounds 10] [--requests 3000] [--connections 20] [--prewarm 6000]`
 *
 * `<checkout>` is another tree of the project whose `gateway/src/main.ts` can run: e.g. a commit unpacked
 * with `git archive <commit> | tar -x -C /tmp/base` and its `node_modules` entries linked to this
 * checkout's (with `@dream/common` pointing at its own `packages/common`). Both gateways run at once
 * against the same subgraph replicas, each idle while the other is loaded; the rounds alternate A and B
 * (and which goes first), and each round sends a fixed number of requests (after a short warm-up) and
 * divides the gateway process's CPU time (user + system, from /proc) by them. Requests per second are printed too but mean little here:
 * on a shared, loaded machine they follow the neighbours, while CPU time per request moves much less,
 * and interleaving spreads what remains over both sides. `--other .` measures the noise floor (A/A).
 *
 * `--profile <dir>` runs A under `node --cpu-prof` and prints where its CPU time goes (self time by
 * package or source file, then by function) after the rounds; the `.cpuprofile` stays in `<dir>` for
 * Chrome's DevTools.
 */
import { resolve } from 'node:path';
import { Stack, type ChildService } from '@dream/testenv';
import { Pool } from 'undici';
import { selfTimes, ownerOf } from './lib/cpuprofile';
import { procSample } from './lib/proc';
import { gqlPost, seedData, startReplicas, waitForPools } from './lib/topology';

const argv = process.argv.slice(2);
const opt = (name: string) => (argv.indexOf(name) >= 0 ? argv[argv.indexOf(name) + 1] : undefined);
const OTHER = opt('--other');
const ROUNDS = Number(opt('--rounds') ?? 10);
/** Requests per measured round (CPU time is read in 10 ms ticks: 3000 requests × ~0.6 ms ≈ 180 ticks). */
const REQUESTS = Number(opt('--requests') ?? 3000);
const CONNECTIONS = Number(opt('--connections') ?? 20);
const PREWARM = Number(opt('--prewarm') ?? 6000);
const REPLICAS = Number(opt('--replicas') ?? 2);
const PROFILE = opt('--profile');
const READ_QUERY = 'query Read($first: Int!) { courses(first: $first) { id name price owner { username } } }';

const log = (...a: unknown[]) => console.error(...a);
let seq = 0;
/** The `unique` read: `first` cycling 41..50 and a distinct forwarded request id, so nothing merges. */
const unique = (n: number) => ({
  body: JSON.stringify({ query: READ_QUERY, variables: { first: 41 + (n % 10) } }),
  headers: { 'x-request-id': `ab-${process.pid}-${++seq}` },
});

interface Round {
  cpuMsPerRequest: number;
  rps: number;
  errors: number;
}

/**
 * Sends exactly `n` requests over `connections` kept-alive connections and counts the wrong answers.
 * A fixed count (not a fixed time) keeps the figure meaningful however slow the machine is.
 */
async function drive(gw: ChildService, n: number): Promise<{ errors: number; seconds: number }> {
  const pool = new Pool(gw.base, { connections: CONNECTIONS, pipelining: 1 });
  let next = 0;
  let errors = 0;
  const t0 = process.hrtime.bigint();
  const worker = async () => {
    while (next < n) {
      const { body, headers } = unique(next++);
      try {
        const res = await pool.request({ path: '/graphql', method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
        const text = await res.body.text();
        if (res.statusCode !== 200 || !text.startsWith('{"data":{"courses":[')) errors++;
      } catch {
        errors++;
      }
    }
  };
  await Promise.all(Array.from({ length: CONNECTIONS }, worker));
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  await pool.close();
  return { errors, seconds };
}

async function round(gw: ChildService): Promise<Round> {
  await drive(gw, Math.ceil(REQUESTS / 5)); // warm-up after the other side's turn
  const before = procSample(gw.pid).ticks;
  const { errors, seconds } = await drive(gw, REQUESTS);
  const cpuMs = (procSample(gw.pid).ticks - before) * 10; // CLK_TCK = 100 on Linux
  return { cpuMsPerRequest: cpuMs / REQUESTS, rps: REQUESTS / seconds, errors };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

async function main(): Promise<void> {
  if (!OTHER) throw new Error('--other <checkout> is required (see the comment at the top)');
  const stack = await new Stack({ logLevel: 'warn' }).start();
  try {
    // a loaded machine compiles TypeScript slowly: give every process minutes to come up
    const slow = { timeoutMs: 180_000 };
    await startReplicas(stack, REPLICAS, {}, slow);
    const env = { ACCESS_LOG: 'false' };
    const a = await stack.spawnGateway(env, { ...slow, nodeArgs: PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${resolve(PROFILE)}`] : [] });
    const b = await stack.spawnGateway(env, { ...slow, script: resolve(OTHER, 'gateway/src/main.ts') });
    await Promise.all([waitForPools(a, REPLICAS), waitForPools(b, REPLICAS)]);
    await seedData(a.base);
    for (const gw of [a, b]) {
      const data = await gqlPost(`${gw.base}/graphql`, READ_QUERY, { first: 50 });
      if (data?.courses?.length !== 50) throw new Error(`${gw.base} answered the read wrongly`);
      log(`ab: pre-warming ${gw === a ? 'A' : 'B'}`);
      await drive(gw, PREWARM);
    }
    const rounds: Record<'A' | 'B', Round[]> = { A: [], B: [] };
    for (let r = 0; r < ROUNDS; r++) {
      const order: Array<['A' | 'B', ChildService]> = r % 2 ? [['B', b], ['A', a]] : [['A', a], ['B', b]];
      for (const [name, gw] of order) {
        const x = await round(gw);
        rounds[name].push(x);
        log(`ab: round ${r + 1} ${name}: ${x.cpuMsPerRequest.toFixed(3)} ms CPU/request, ${x.rps.toFixed(0)} rps, ${x.errors} errors`);
      }
    }
    const summary = (xs: Round[]) => ({
      cpuMsPerRequestMedian: Math.round(median(xs.map((x) => x.cpuMsPerRequest)) * 1000) / 1000,
      cpuMsPerRequest: xs.map((x) => Math.round(x.cpuMsPerRequest * 1000) / 1000),
      rpsMedian: Math.round(median(xs.map((x) => x.rps))),
      errors: xs.reduce((s, x) => s + x.errors, 0),
    });
    const A = summary(rounds.A);
    const B = summary(rounds.B);
    // per-round pairs (A and B measured back to back) cancel slow drifts of the machine's load
    const pairRatios = rounds.A.map((x, i) => x.cpuMsPerRequest / rounds.B[i].cpuMsPerRequest);
    console.log(JSON.stringify({ settings: { rounds: ROUNDS, requests: REQUESTS, connections: CONNECTIONS, replicas: REPLICAS, other: resolve(OTHER) }, A, B }, null, 1));
    console.log(
      `A/B CPU per request: median ${(A.cpuMsPerRequestMedian / B.cpuMsPerRequestMedian).toFixed(3)}, median of per-round ratios ${median(pairRatios).toFixed(3)} (A ${A.cpuMsPerRequestMedian} ms, B ${B.cpuMsPerRequestMedian} ms)`,
    );
  } finally {
    const failed = await stack.stop();
    if (failed.length) log(`ab: teardown failed for ${failed.join(', ')}`);
  }
  if (PROFILE) printProfile(resolve(PROFILE));
}

/** The profile is written when A exits (at the stack's stop), so it is read after the teardown. */
function printProfile(dir: string): void {
  const show = (title: string, rows: ReturnType<typeof selfTimes>) => {
    console.log(`\n${title}`);
    for (const r of rows) console.log(`${String(r.share).padStart(5)} %  ${String(r.ms).padStart(6)} ms  ${r.name}`);
  };
  show('A: self time by package or source file', selfTimes(dir, (f) => ownerOf(f.url)));
  show('A: self time by function', selfTimes(dir, (f) => `${f.functionName || '(anonymous)'} ${ownerOf(f.url)}:${f.lineNumber + 1}`, 40));
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
