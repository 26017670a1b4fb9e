/**
 * Installs the benchmark-only dependencies (the Hive Gateway baselines) into bench/hive/node_modules when
 * they are missing or differ from bench/hive/package-lock.json. They are not root devDependencies: their
 * current releases pull in helpers that declare Node >= 22.15, which would make every `npm ci` of the
 * project print engine warnings although only the benchmark uses them (they run fine on Node 20 here).
 * `npm run bench` and `npm run bench:smoke` call this first; bench/hive/gateway.ts then resolves
 * them from bench/hive/node_modules (a folder of their own, so the rest of bench/ keeps the root's
 * graphql and graphql-ws).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const HIVE_DIR = __dirname;

interface Lockfile {
  packages: Record<string, { version?: string }>;
}

const versions = (file: string): Map<string, string | undefined> | undefined => {
  if (!existsSync(file)) return undefined;
  const lock = JSON.parse(readFileSync(file, 'utf8')) as Lockfile;
  return new Map(Object.entries(lock.packages).filter(([path]) => path !== '').map(([path, p]) => [path, p.version]));
};

/** npm writes node_modules/.package-lock.json after an install: equal to the lockfile means up to date. */
function upToDate(): boolean {
  const wanted = versions(join(HIVE_DIR, 'package-lock.json'));
  const installed = versions(join(HIVE_DIR, 'node_modules', '.package-lock.json'));
  if (!wanted || !installed) return false;
  for (const [path, version] of wanted) if (installed.get(path) !== version) return false;
  return true;
}

if (upToDate()) process.exit(0);
console.error('bench: installing the baseline gateways into bench/hive/node_modules (npm ci --prefix bench/hive)');
// --loglevel=error: the Node 22 engine notices of Hive's transitive helpers are known (docs/benchmarks.md)
const npm = spawnSync('npm', ['ci', '--prefix', HIVE_DIR, '--no-audit', '--no-fund', '--loglevel=error'], { stdio: 'inherit' });
if (npm.status !== 0) {
  console.error(`bench: npm ci in ${HIVE_DIR} failed (exit ${npm.status ?? npm.signal}); the Hive baselines cannot run`);
  process.exit(1);
}
