/**
 * What loading the gateway costs before it serves: the time to load gateway/src/main.ts's module graph
 * (without running it) and the process RSS afterwards, median of several fresh processes, plus whether
 * the database drivers and gRPC (which the gateway never uses) were loaded.
 * `npx tsx scripts/measure-gateway-load.ts [runs] [other checkout]`: with a second checkout (e.g. the
 * previous commit's packages/common and gateway unpacked with a node_modules/@dream/common link), the
 * two are run alternately so that load from other processes falls on both alike.
 */
import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';

const probe = (root: string) => `
const t0 = performance.now();
require(${JSON.stringify(resolve(root, 'gateway/src/server.ts'))});
require(${JSON.stringify(resolve(root, 'gateway/src/config.ts'))});
const ms = performance.now() - t0;
const loaded = (m) => Object.keys(require.cache).some((k) => k.includes('/node_modules/' + m + '/'));
console.log(JSON.stringify({ ms, rssMiB: process.memoryUsage().rss / 2 ** 20, oracledb: loaded('oracledb'), betterSqlite3: loaded('better-sqlite3'), grpc: loaded('@grpc/grpc-js'), kysely: loaded('kysely') }));
`;

interface Sample {
  ms: number;
  rssMiB: number;
  oracledb: boolean;
  betterSqlite3: boolean;
  grpc: boolean;
  kysely: boolean;
}

const runs = Number(process.argv[2] ?? 7);
const roots = [resolve(__dirname, '..'), ...(process.argv[3] ? [resolve(process.argv[3])] : [])];
const samples = new Map<string, Sample[]>(roots.map((r) => [r, []]));
for (let i = 0; i < runs; i++) {
  for (const root of roots) {
    const out = execFileSync(process.execPath, ['--import', 'tsx', '-e', probe(root)], { cwd: root, encoding: 'utf8' });
    samples.get(root)!.push(JSON.parse(out.trim()) as Sample);
  }
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
for (const [root, results] of samples) {
  const { oracledb, betterSqlite3, grpc, kysely } = results[0];
  const loadMsMedian = Math.round(median(results.map((r) => r.ms)));
  const rssMiBMedian = Math.round(median(results.map((r) => r.rssMiB)) * 10) / 10;
  console.log(JSON.stringify({ root, runs, loadMsMedian, rssMiBMedian, loads: { oracledb, betterSqlite3, grpc, kysely } }));
}
