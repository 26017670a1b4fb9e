/**
 * Validates docker-compose.yml and the Dockerfile without a Docker engine (this machine and CI have none):
 * structure (health checks, healthy-only dependencies, replicas, published ports), that every environment
 * variable compose sets on our services is read by that service's code, that every path the Dockerfile
 * copies or runs exists, and that compose, supergraph.yaml and the Oracle init script agree.
 * When a compose CLI is installed (`docker compose` or Debian's `docker-compose`) it also runs `config -q`.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import YAML from 'yaml';
import {
  compose,
  composeCli,
  dependsOn,
  dockerfileStages,
  dockerIgnored,
  envOf,
  filesUnder,
  inherited,
  interpolateDefaults,
  OURS,
  read,
  REQUIRED,
  ROOT,
  services,
  SUBGRAPH_SERVICES,
  WORKSPACES,
  type ComposeFile,
} from './lib/compose-file';

const composeCliOnce = composeCli();

describe('docker-compose.yml', () => {
  it('has the platform services', () => {
    expect(Object.keys(services).sort()).toEqual(['courses', 'discovery', 'gateway', 'media', 'media-worker', 'oracle', 'redis', 'users']);
  });

  it('builds our services from the Dockerfile target named after them', () => {
    const stages = dockerfileStages();
    for (const name of OURS) {
      const build = services[name].build;
      expect(typeof build).toBe('object');
      const target = (build as { target?: string }).target;
      expect(target).toBe(name);
      expect(stages.has(name)).toBe(true);
    }
  });

  it('gives every service a health check (compose or image)', () => {
    const stages = dockerfileStages();
    for (const [name, svc] of Object.entries(services)) {
      if (OURS.includes(name)) {
        expect(inherited(stages, name, 'HEALTHCHECK')).toMatch(/healthcheck\.cjs/);
      } else {
        expect(svc.healthcheck?.test).toBeDefined();
        expect(svc.healthcheck?.disable).not.toBe(true);
      }
    }
  });

  it('only depends on services that are healthy, never merely started', () => {
    for (const [name, svc] of Object.entries(services)) {
      for (const [dep, cond] of Object.entries(dependsOn(svc))) {
        expect({ service: name, dep, condition: cond.condition }).toEqual({ service: name, dep, condition: 'service_healthy' });
        expect(services[dep]).toBeDefined();
      }
    }
    expect(Object.keys(dependsOn(services.gateway)).sort()).toEqual(['courses', 'discovery', 'users']);
    for (const s of ['users', 'courses']) expect(Object.keys(dependsOn(services[s])).sort()).toEqual(['discovery', 'oracle', 'redis']);
  });

  it('runs two replicas of each subgraph with nothing that pins one container (scale with --scale)', () => {
    for (const s of ['users', 'courses']) {
      expect(services[s].deploy?.replicas).toBe(2);
      expect(services[s].ports).toBeUndefined();
      expect(services[s].container_name).toBeUndefined();
      expect(services[s].hostname).toBeUndefined();
    }
    for (const name of OURS) expect(services[name].container_name).toBeUndefined();
  });

  it('runs two media replicas and a worker on one shared volume (files, partial uploads) and one Oracle schema', () => {
    expect(services.media.deploy?.replicas).toBe(2);
    for (const s of ['media', 'media-worker']) {
      expect(services[s].ports).toBeUndefined();
      expect(services[s].hostname).toBeUndefined();
    }
    const mountOf = (s: string) => (services[s].volumes ?? []).map(String).map((m) => m.split(':'));
    const [[volume, target]] = mountOf('media');
    expect(mountOf('media-worker')).toEqual([[volume, target]]);
    expect(compose.volumes).toHaveProperty(volume); // a named volume, not a host folder
    const env = envOf(services.media);
    const under = (p: string) => p === target || p.startsWith(`${target}/`);
    // tus uploads continue on any replica only because every replica sees the same partial files
    // (and the Redis lock): both folders on the volume, the uploads outside the served media folder
    expect(under(env.MEDIA_UPLOAD_DIR)).toBe(true);
    expect(under(env.MEDIA_DIR)).toBe(true);
    expect(env.MEDIA_UPLOAD_DIR.startsWith(`${env.MEDIA_DIR}/`)).toBe(false);
    expect(env.DATABASE_URL).toMatch(/^oracle:\/\/MEDIA_SVC:\$\{MEDIA_DB_PASSWORD:\?[^}]*\}@oracle:1521\/FREEPDB1$/);
    expect(dependsOn(services.media).oracle).toEqual({ condition: 'service_healthy' });
    // the worker: the same settings, without what it has no use for (it verifies no JWT, signs no URL)
    const { JWT_PUBLIC_KEY, MEDIA_SIGNING_SECRET, ...workerEnv } = env;
    expect([JWT_PUBLIC_KEY, MEDIA_SIGNING_SECRET].every(Boolean)).toBe(true);
    expect(envOf(services['media-worker'])).toEqual(workerEnv);
    // the worker starts once a media replica ran the migrations
    expect(dependsOn(services['media-worker']).media).toEqual({ condition: 'service_healthy' });
  });

  it('publishes only the gateway, on 8080', () => {
    for (const [name, svc] of Object.entries(services)) {
      if (name === 'gateway') continue;
      expect({ name, ports: svc.ports }).toEqual({ name, ports: undefined });
    }
    const ports = services.gateway.ports ?? [];
    expect(ports).toHaveLength(1);
    const spec = ports[0];
    const [published, target] =
      typeof spec === 'string' ? interpolateDefaults(spec).split(':').slice(-2) : [String(spec.published), String(spec.target)];
    expect(published).toBe('8080');
    expect(target).toBe(envOf(services.gateway).PORT);
  });

  it('runs our services behind an init process so SIGTERM reaches them', () => {
    for (const name of OURS) expect(services[name].init).toBe(true);
    const stages = dockerfileStages();
    for (const name of OURS) expect(inherited(stages, name, 'STOPSIGNAL')).toBe('SIGTERM');
  });

  it('wires each service to the others by compose service name and port', () => {
    const discoveryPort = envOf(services.discovery).PORT;
    for (const s of ['users', 'courses', 'media', 'media-worker', 'gateway']) {
      expect(envOf(services[s]).DISCOVERY_URL).toBe(`http://discovery:${discoveryPort}`);
    }
    for (const s of OURS) expect(interpolateDefaults(envOf(services[s]).REDIS_URL)).toBe('redis://:REDIS_PASSWORD@redis:6379');
    // a service bound to loopback would be healthy inside its container and unreachable from the others
    for (const s of OURS) expect(envOf(services[s]).HOST).toBe('0.0.0.0');
    for (const [s, schema] of [
      ['users', 'USERS_SVC'],
      ['courses', 'COURSES_SVC'],
    ] as const) {
      const url = new URL(interpolateDefaults(envOf(services[s]).DATABASE_URL));
      expect(url.protocol).toBe('oracle:');
      expect(url.username).toBe(schema);
      expect(url.hostname).toBe('oracle');
      expect(url.pathname).toBe('/FREEPDB1');
    }
  });

  it('only users holds the signing key; the others get the public key, and no key file is shared', () => {
    for (const s of ['users', 'courses', 'gateway']) {
      expect(envOf(services[s]).JWT_PUBLIC_KEY).toMatch(/^\$\{JWT_PUBLIC_KEY:\?/);
      const mounts = (services[s].volumes ?? []).map((v) => (typeof v === 'string' ? v : `${v.source}:${v.target}`));
      expect(mounts.some((m) => m.includes('keys'))).toBe(false);
    }
    expect(envOf(services.users).JWT_PRIVATE_KEY).toMatch(/^\$\{JWT_PRIVATE_KEY:\?/);
    for (const s of OURS.filter((n) => n !== 'users')) expect(envOf(services[s])).not.toHaveProperty('JWT_PRIVATE_KEY');
  });

  it('refuses to start without its secrets, and gives no secret a default', () => {
    expect(REQUIRED).toEqual(
      expect.arrayContaining(['COURSES_DB_PASSWORD', 'DISCOVERY_TOKEN', 'JWT_PRIVATE_KEY', 'JWT_PUBLIC_KEY', 'ORACLE_PASSWORD', 'REDIS_PASSWORD', 'SERVICE_TOKEN', 'STATUS_TOKEN', 'USERS_DB_PASSWORD']),
    );
    expect(read('docker-compose.yml')).not.toMatch(/\$\{[A-Z_]*(PASSWORD|TOKEN|KEY)[A-Z_]*:?-/);
    for (const s of OURS) expect(envOf(services[s]).NODE_ENV).toBe('production');
  });

  it('keeps Redis, the database, discovery and the subgraphs on an internal network; only the gateway is on the edge', () => {
    const nets = (compose as unknown as { networks: Record<string, { internal?: boolean }> }).networks;
    expect(nets.internal.internal).toBe(true);
    const joined = (name: string) => (services[name] as unknown as { networks: string[] }).networks;
    for (const s of ['redis', 'oracle', 'discovery', 'users', 'courses', 'media', 'media-worker']) expect(joined(s)).toEqual(['internal']);
    expect([...joined('gateway')].sort()).toEqual(['edge', 'internal']);
    expect(services.redis.command).toEqual(expect.arrayContaining(['--requirepass']));
  });

  it.each(OURS)('sets only environment variables that %s reads', (name) => {
    const sources = [...filesUnder(`${WORKSPACES[name]}/src`), ...filesUnder('packages/common/src')]
      .map((f) => readFileSync(f, 'utf8'))
      .join('\n');
    // ADVERTISE_HOST is set per container by deploy/docker-entrypoint.sh, not by compose; the subgraphs must read it.
    const names = [...Object.keys(envOf(services[name])), ...(SUBGRAPH_SERVICES.includes(name) ? ['ADVERTISE_HOST'] : [])];
    const unread = names.filter((key) => {
      // process.env.X, env.X, a config shape key `X:` / `X?:`, or env['X']
      const used = new RegExp(`process\\.env\\.${key}\\b|\\benv\\.${key}\\b|\\b${key}\\??\\s*:|\\[['"]${key}['"]\\]`);
      return !used.test(sources);
    });
    expect(unread).toEqual([]);
  });

  it('uses the schemas the Oracle init script creates, and the script is executable', () => {
    const init = 'deploy/oracle/init/01-create-schemas.sh';
    const script = read(init);
    // (what the script does is run against a stand-in sqlplus in oracle-init.test.ts)
    expect(script).toMatch(/SCHEMAS=\(USERS_SVC COURSES_SVC MEDIA_SVC USERS_TEST COURSES_TEST MEDIA_TEST\)/);
    // mounted where the image runs scripts on every start, so a failed first boot is repaired by a restart
    expect((services.oracle.volumes ?? []).map(String)).toContain('./deploy/oracle/init:/container-entrypoint-startdb.d:ro');
    expect(statSync(join(ROOT, init)).mode & 0o111).not.toBe(0);
    const oracleEnv = envOf(services.oracle);
    for (const v of ['USERS_DB_PASSWORD', 'COURSES_DB_PASSWORD', 'MEDIA_DB_PASSWORD', 'TEST_DB_PASSWORD']) {
      expect(script).toContain(`\${${v}:?`);
      expect(oracleEnv).toHaveProperty(v);
    }
    // the health check waits for the marker the script writes last
    expect(JSON.stringify(services.oracle.healthcheck?.test)).toContain('dream-schemas.ok');
    expect(script).toContain('dream-schemas.ok');
  });

  it('names the compose routing URLs in supergraph.yaml', () => {
    const sg = YAML.parse(read('supergraph.yaml')) as { subgraphs: Record<string, { routing_url: string }> };
    for (const [name, entry] of Object.entries(sg.subgraphs)) {
      expect(services[name]).toBeDefined();
      expect(entry.routing_url).toBe(`http://${name}:${envOf(services[name]).PORT}/graphql`);
    }
  });

  const cli = composeCliOnce;
  (cli ? it : it.skip)(`passes \`${cli?.join(' ') ?? 'docker compose'} config -q\``, () => {
    const [cmd, ...args] = cli!;
    const secrets = Object.fromEntries(REQUIRED.map((v) => [v, `test-${v.toLowerCase()}`]));
    const res = spawnSync(cmd, [...args, '-f', 'docker-compose.yml', 'config', '-q'], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, ...secrets } });
    expect(res.stderr).toBe('');
    expect(res.status).toBe(0);
    // and without them it refuses
    const bare = Object.fromEntries(Object.entries(process.env).filter(([k]) => !REQUIRED.includes(k)));
    const refused = spawnSync(cmd, [...args, '-f', 'docker-compose.yml', 'config', '-q'], { cwd: ROOT, encoding: 'utf8', env: bare });
    expect(refused.status).not.toBe(0);
  });
});

describe('deploy/compose.sentinel.yml (Redis Sentinel variant)', () => {
  const override = YAML.parse(read('deploy/compose.sentinel.yml'), { merge: true }) as ComposeFile;

  it('adds a replica and three sentinels and points every service at the sentinels instead of REDIS_URL', () => {
    const names = Object.keys(override.services);
    expect(names).toEqual(expect.arrayContaining(['redis-replica', 'sentinel-1', 'sentinel-2', 'sentinel-3']));
    for (const svc of ['discovery', 'users', 'courses', 'gateway']) {
      const env = envOf(override.services[svc]);
      expect(env.REDIS_SENTINELS).toBe('sentinel-1:26379,sentinel-2:26379,sentinel-3:26379');
      expect(env.REDIS_MASTER_NAME).toBe('dream');
      expect(env.REDIS_URL).toBe('');
      expect(env.REDIS_PASSWORD).toBe('${REDIS_PASSWORD:?set REDIS_PASSWORD}');
    }
    // the primary keeps its password in the variant, and the replica and sentinels authenticate
    expect(override.services.redis.command).toEqual(expect.arrayContaining(['--requirepass', '--masterauth']));
    expect(override.services['redis-replica'].command).toEqual(expect.arrayContaining(['--requirepass', '--masterauth']));
    expect(JSON.stringify(override.services['sentinel-1'].entrypoint)).toContain('sentinel auth-pass dream');
  });

  (composeCliOnce ? it : it.skip)('passes `config -q` merged over docker-compose.yml', () => {
    const [cmd, ...args] = composeCliOnce!;
    const secrets = Object.fromEntries(REQUIRED.map((v) => [v, `test-${v.toLowerCase()}`]));
    const res = spawnSync(cmd, [...args, '-f', 'docker-compose.yml', '-f', 'deploy/compose.sentinel.yml', 'config', '-q'], {
      cwd: ROOT,
      encoding: 'utf8',
      env: { ...process.env, ...secrets },
    });
    expect(res.stderr).toBe('');
    expect(res.status).toBe(0);
  });
});

describe('Dockerfile', () => {
  const stages = dockerfileStages();

  it('builds on node 22 bookworm images, with production dependencies only', () => {
    const text = read('Dockerfile');
    expect(text).toMatch(/ARG NODE_VERSION=22\b/);
    expect(stages.get('runtime')?.from).toBe('node:${NODE_VERSION}-bookworm-slim');
    expect(text).toMatch(/npm ci --omit=dev/);
  });

  it('installs dependencies from every workspace manifest the lockfile knows', () => {
    const { workspaces } = JSON.parse(read('package.json')) as { workspaces: string[] };
    const copied = stages.get('deps')?.lines.filter((l) => /^COPY\s/i.test(l)) ?? [];
    for (const ws of workspaces) expect(copied).toContain(`COPY ${ws}/package.json ${ws}/`);
  });

  it('runs as the unprivileged node user', () => {
    for (const name of OURS) expect(inherited(stages, name, 'USER')).toBe('node');
  });

  it('copies only paths that exist', () => {
    const missing: string[] = [];
    for (const stage of stages.values()) {
      for (const line of stage.lines) {
        if (!/^COPY\s/i.test(line) || /--from=/.test(line)) continue;
        const args = line.split(/\s+/).slice(1).filter((a) => !a.startsWith('--'));
        for (const src of args.slice(0, -1)) if (!existsSync(join(ROOT, src))) missing.push(src);
      }
    }
    expect(missing).toEqual([]);
  });

  it('ships ffmpeg and ffprobe (Debian) in the media images, and runs the worker role in media-worker', () => {
    const run = stages.get('media')!.lines.filter((l) => /^RUN\s/.test(l)).join('\n');
    expect(run).toMatch(/apt-get install -y --no-install-recommends ffmpeg\b/);
    expect(stages.get('media-worker')!.from).toBe('media');
    expect(inherited(stages, 'media-worker', 'ENV')).toMatch(/\bMEDIA_ROLE=worker\b/);
    expect(inherited(stages, 'media', 'ENV')).not.toMatch(/MEDIA_ROLE/);
  });

  it.each(OURS)('starts %s from a file that exists, on the ports compose sets', (name) => {
    const cmd = JSON.parse(inherited(stages, name, 'CMD') ?? '[]') as string[];
    expect(cmd.slice(0, 3)).toEqual(['node', '--import', 'tsx']);
    expect(cmd[3]).toBe(`${WORKSPACES[name]}/src/main.ts`);
    expect(existsSync(join(ROOT, cmd[3]))).toBe(true);
    const env = ` ${inherited(stages, name, 'ENV')} `;
    expect(env).toContain(` PORT=${envOf(services[name]).PORT} `);
    if (envOf(services[name]).GRPC_PORT) expect(env).toContain(` GRPC_PORT=${envOf(services[name]).GRPC_PORT} `);
  });

  it('ships an entrypoint and health probe that exist and are valid', () => {
    expect(inherited(stages, 'users', 'ENTRYPOINT')).toBe('["/app/deploy/docker-entrypoint.sh"]');
    expect(statSync(join(ROOT, 'deploy/docker-entrypoint.sh')).mode & 0o111).not.toBe(0);
    expect(spawnSync('sh', ['-n', join(ROOT, 'deploy/docker-entrypoint.sh')]).status).toBe(0);
    expect(spawnSync(process.execPath, ['--check', join(ROOT, 'deploy/healthcheck.cjs')]).status).toBe(0);
  });

  it('keeps tests, local data and dependencies out of the build context, and every source file in it', () => {
    const ignored = dockerIgnored(read('.dockerignore'));
    for (const p of ['node_modules/x', 'gateway/node_modules/x', 'data/users.db', 'subgraphs/users/data/users.db', 'discovery/data/keys/k.pem',
      'subgraphs/users/test/a.test.ts', 'packages/common/test/a.test.ts', 'test/compose.test.ts', '.git/HEAD', '.env']) {
      expect({ path: p, ignored: ignored(p) }).toEqual({ path: p, ignored: true });
    }
    const needed = ['packages/common/src', 'proto', ...OURS.map((n) => `${WORKSPACES[n]}/src`)]
      .flatMap((d) => filesUnder(d, ''))
      .map((f) => relative(ROOT, f))
      .concat(['package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.base.json', 'deploy/docker-entrypoint.sh', 'deploy/healthcheck.cjs']);
    expect(needed.length).toBeGreaterThan(20);
    expect(needed.filter(ignored)).toEqual([]);
  });
});

