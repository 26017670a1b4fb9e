/**
 * docker-compose.yml, the Dockerfile and .dockerignore read the way Docker reads them, for the tests that
 * check them without a Docker engine (test/compose*.test.ts, test-images/).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import YAML from 'yaml';

export const ROOT = resolve(__dirname, '../..');
export const read = (p: string) => readFileSync(join(ROOT, p), 'utf8');

export interface ComposeService {
  image?: string;
  build?: { context?: string; target?: string } | string;
  command?: string | string[];
  entrypoint?: string | string[];
  environment?: Record<string, string | number | boolean | null> | string[];
  ports?: Array<string | { target?: number; published?: string | number }>;
  healthcheck?: { test?: string | string[]; disable?: boolean };
  depends_on?: string[] | Record<string, { condition?: string }>;
  deploy?: { replicas?: number };
  container_name?: string;
  hostname?: string;
  init?: boolean;
  volumes?: Array<string | { source?: string; target?: string }>;
}
export interface ComposeFile {
  services: Record<string, ComposeService>;
  volumes?: Record<string, unknown>;
}

// `merge: true` resolves the `<<: *app` keys the file uses to share settings.
export const compose = YAML.parse(read('docker-compose.yml'), { merge: true }) as ComposeFile;
export const services = compose.services;

/** Our services: compose builds them from the Dockerfile; their code lives in these workspaces. */
export const WORKSPACES: Record<string, string> = {
  discovery: 'discovery',
  users: 'subgraphs/users',
  courses: 'subgraphs/courses',
  media: 'subgraphs/media',
  // the media image in the worker role (MEDIA_ROLE=worker): same code, its own target and service
  'media-worker': 'subgraphs/media',
  gateway: 'gateway',
};
export const OURS = Object.keys(WORKSPACES);
/** Services whose entrypoint-set ADVERTISE_HOST their config reads (the subgraphs, media's worker included). */
export const SUBGRAPH_SERVICES = ['users', 'courses', 'media', 'media-worker'];

export function envOf(svc: ComposeService): Record<string, string> {
  const out: Record<string, string> = {};
  if (Array.isArray(svc.environment)) {
    for (const item of svc.environment) {
      const i = item.indexOf('=');
      out[i < 0 ? item : item.slice(0, i)] = i < 0 ? '' : item.slice(i + 1);
    }
  } else {
    for (const [k, v] of Object.entries(svc.environment ?? {})) out[k] = v === null ? '' : String(v);
  }
  return out;
}

/** `${VAR:-default}` → default, as compose would with VAR unset; a required `${VAR:?…}` → `<VAR>`. */
export const interpolateDefaults = (s: string) => s.replace(/\$\{[A-Z0-9_]+:?-([^}]*)\}/g, '$1').replace(/\$\{([A-Z0-9_]+):\?[^}]*\}/g, '$1');

/** Every secret compose requires (`${VAR:?…}`): it refuses to start without them. */
export const REQUIRED = [...new Set([...read('docker-compose.yml').matchAll(/\$\{([A-Z0-9_]+):\?/g)].map((m) => m[1]))].sort();

export function dependsOn(svc: ComposeService): Record<string, { condition?: string }> {
  if (Array.isArray(svc.depends_on)) return Object.fromEntries(svc.depends_on.map((d) => [d, {}]));
  return svc.depends_on ?? {};
}

export function filesUnder(dir: string, ext = '.ts'): string[] {
  const abs = join(ROOT, dir);
  if (!existsSync(abs)) return [];
  const out: string[] = [];
  for (const name of readdirSync(abs)) {
    const p = join(abs, name);
    if (statSync(p).isDirectory()) out.push(...filesUnder(join(dir, name), ext));
    else if (name.endsWith(ext)) out.push(p);
  }
  return out;
}

/** Dockerfile stages by name, with their instructions (continuation lines joined, comments dropped). */
export function dockerfileStages(): Map<string, { from: string; lines: string[] }> {
  const text = read('Dockerfile')
    .split('\n')
    .filter((l) => !/^\s*#/.test(l))
    .join('\n')
    .replace(/\\\n/g, ' ');
  const stages = new Map<string, { from: string; lines: string[] }>();
  let current: { from: string; lines: string[] } | undefined;
  for (const line of text.split('\n').map((l) => l.trim()).filter(Boolean)) {
    const from = /^FROM\s+(\S+)(?:\s+AS\s+(\S+))?/i.exec(line);
    if (from) {
      current = { from: from[1], lines: [] };
      stages.set(from[2] ?? `#${stages.size}`, current);
    } else current?.lines.push(line);
  }
  return stages;
}

/** An instruction as seen by a stage, following `FROM <earlier stage>` chains (last one wins). */
export function inherited(stages: ReturnType<typeof dockerfileStages>, target: string, instr: string): string | undefined {
  for (let name: string | undefined = target; name && stages.has(name); name = stages.get(name)?.from) {
    const hit = [...stages.get(name)!.lines].reverse().find((l) => l.toUpperCase().startsWith(`${instr} `));
    if (hit) return hit.slice(instr.length + 1).trim();
  }
  return undefined;
}

/**
 * .dockerignore semantics (Go filepath.Match plus `**`, anchored at the context root): a path is left out
 * when it or one of its parent folders matches a pattern. No `!` exceptions are used here.
 */
export function dockerIgnored(text: string): (path: string) => boolean {
  const toRegExp = (pattern: string) =>
    new RegExp(
      `^${pattern
        .replace(/^\/+/, '')
        .replace(/[.+^${}()|[\]\\]/g, '\\$&')
        .replace(/\*\*\/?/g, '\u0000')
        .replace(/\*/g, '[^/]*')
        .replace(/\?/g, '[^/]')
        .replace(/\u0000/g, '(?:.*/)?')}$`,
    );
  const patterns = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'))
    .map(toRegExp);
  return (path) => {
    const parts = path.split('/');
    return parts.some((_, i) => patterns.some((re) => re.test(parts.slice(0, i + 1).join('/'))));
  };
}

/** `docker compose` (v2 plugin) or Debian's `docker-compose`, when one is installed. */
export function composeCli(): string[] | undefined {
  for (const cmd of [['docker', 'compose'], ['docker-compose']]) {
    const res = spawnSync(cmd[0], [...cmd.slice(1), 'version'], { encoding: 'utf8' });
    if (res.status === 0) return cmd;
  }
  return undefined;
}

/**
 * Compose variable interpolation with `vars` as the shell/.env: `${V}`, `$V`, `${V:-default}`, `${V-default}`,
 * `${V:?message}`, `${V?message}` and `$$`. Throws what compose would refuse with (a required variable unset).
 */
export function interpolate(value: string, vars: Record<string, string | undefined>): string {
  return value.replace(/\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?)([-?])([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g, (all, name?: string, colon?: string, op?: string, arg?: string, bare?: string) => {
    if (all === '$$') return '$';
    const key = (name ?? bare)!;
    const v = vars[key];
    const missing = v === undefined || (colon === ':' && v === '');
    if (op === '-') return missing ? arg! : v!;
    if (op === '?') {
      if (missing) throw new Error(`compose refuses to start: required variable ${key} is missing a value: ${arg}`);
      return v!;
    }
    return v ?? '';
  });
}

/** KEY=VALUE lines of a .env file (comments and blank lines skipped; no quotes processing needed here). */
export function parseDotenv(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=(.*)$/.exec(line);
    if (m && !line.trim().startsWith('#')) out[m[1]] = m[2].trim();
  }
  return out;
}

/** A service's environment as compose would pass it, given the .env/shell variables. */
export function composeEnv(service: string, vars: Record<string, string | undefined>): Record<string, string> {
  return Object.fromEntries(Object.entries(envOf(services[service])).map(([k, v]) => [k, interpolate(v, vars)]));
}

/**
 * What compose needs in .env to start at all: every `${VAR:?…}` secret, with a real JWT pair from
 * deploy/jwt-keys-env.cjs (as the deployment doc generates it) and a placeholder for the rest, long enough for
 * every minimum (MEDIA_SIGNING_SECRET needs 32 characters).
 */
export function composeSecrets(): { secrets: Record<string, string>; pair: Record<string, string>; status: number | null } {
  const generated = spawnSync(process.execPath, [join(ROOT, 'deploy/jwt-keys-env.cjs')], { encoding: 'utf8' });
  const pair = parseDotenv(generated.stdout);
  return { secrets: { ...Object.fromEntries(REQUIRED.map((v) => [v, `test-${v.toLowerCase()}-0123456789abcdef0123456789abcdef`])), ...pair }, pair, status: generated.status };
}
