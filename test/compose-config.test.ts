/**
 * Each service's compose environment, interpolated as compose would (defaults applied, or the documented
 * .env), plus what the image adds (Dockerfile ENV) and the entrypoint sets (ADVERTISE_HOST), fed into that
 * service's own config schema: a variable the schema does not know is a typo or a dead setting, a schema
 * error is a service that would exit at start, and a value the schema drops is a setting that does nothing.
 */
import { ConfigError } from '@dream/common';
import { discoveryEnv, loadDiscoveryConfig } from '../discovery/src/config';
import { gatewayEnv, loadGatewayConfig } from '../gateway/src/config';
import { coursesEnv, loadCoursesConfig } from '../subgraphs/courses/src/config';
import { loadUsersConfig, usersEnv } from '../subgraphs/users/src/config';
import { loadMediaConfig, mediaEnv, requiredSecrets, workerRequiredSecrets } from '../subgraphs/media/src/config';
import { composeEnv, composeSecrets, dockerfileStages, inherited, OURS, parseDotenv, read, SUBGRAPH_SERVICES } from './lib/compose-file';

const SCHEMAS: Record<string, { keys: string[]; load: (env: NodeJS.ProcessEnv) => object }> = {
  discovery: { keys: Object.keys(discoveryEnv), load: loadDiscoveryConfig },
  users: { keys: Object.keys(usersEnv), load: loadUsersConfig },
  courses: { keys: Object.keys(coursesEnv), load: loadCoursesConfig },
  media: { keys: Object.keys(mediaEnv), load: loadMediaConfig },
  'media-worker': { keys: Object.keys(mediaEnv), load: loadMediaConfig },
  gateway: { keys: Object.keys(gatewayEnv), load: loadGatewayConfig },
};

/** `ENV A=1 B=2` lines the service's image inherits (NODE_OPTIONS is node's own, not a config variable). */
function imageEnv(service: string): Record<string, string> {
  const stages = dockerfileStages();
  const out: Record<string, string> = {};
  for (let name: string | undefined = service; name && stages.has(name); name = stages.get(name)?.from) {
    for (const line of [...stages.get(name)!.lines].reverse()) {
      if (!/^ENV\s/i.test(line)) continue;
      for (const [, k, v] of line.slice(4).matchAll(/([A-Z_][A-Z0-9_]*)=(\S+)/g)) if (!(k in out)) out[k] = v;
    }
  }
  delete out.NODE_OPTIONS;
  return out;
}

/** What the service process sees: image ENV, then compose's environment, then the entrypoint's ADVERTISE_HOST. */
function processEnv(service: string, vars: Record<string, string | undefined>) {
  const env: Record<string, string> = { ...imageEnv(service), ...composeEnv(service, vars) };
  if (SUBGRAPH_SERVICES.includes(service)) env.ADVERTISE_HOST ??= 'c0ffee123456';
  return env;
}

// compose refuses to start without its secrets (`${VAR:?…}`): every scenario sets them, the JWT pair for real.
const { secrets, pair, status } = composeSecrets();
const example = Object.fromEntries(Object.entries(parseDotenv(read('deploy/env.example'))).filter(([, v]) => v !== ''));

const scenarios: Array<[string, Record<string, string | undefined>]> = [
  ['only the required secrets (compose defaults for the rest)', secrets],
  ['deploy/env.example plus the secrets', { ...example, ...secrets }],
];

describe.each(scenarios)('compose environment vs config schemas, %s', (_name, vars) => {
  it.each(OURS)('%s: every variable is one its schema reads', (service) => {
    const env = processEnv(service, vars);
    const unknown = Object.keys(env).filter((k) => !SCHEMAS[service].keys.includes(k));
    expect(unknown).toEqual([]);
  });

  it.each(OURS)('%s: the schema accepts the environment and keeps every value compose sets', (service) => {
    const env = processEnv(service, vars);
    let config: Record<string, unknown>;
    try {
      config = SCHEMAS[service].load(env) as Record<string, unknown>;
    } catch (e) {
      throw new Error(`${service} would exit at start: ${(e as Error).message}`);
    }
    for (const [key, value] of Object.entries(env)) {
      if (value === '') continue; // compose passes unset optional variables as empty: the schema's default applies
      expect({ key, value: String(config[key]) }).toEqual({ key, value });
    }
  });
});

describe('compose JWT keys', () => {
  it('the generated pair starts users and reaches courses and the gateway', () => {
    expect(status).toBe(0);
    expect(Object.keys(pair).sort()).toEqual(['JWT_PRIVATE_KEY', 'JWT_PUBLIC_KEY']);
    expect(() => loadUsersConfig(processEnv('users', secrets))).not.toThrow();
    for (const s of ['courses', 'gateway']) {
      expect((SCHEMAS[s].load(processEnv(s, secrets)) as { JWT_PUBLIC_KEY?: string }).JWT_PUBLIC_KEY).toBe(pair.JWT_PUBLIC_KEY);
    }
  });

  it('only the private key: compose refuses, and users itself refuses wherever it runs without compose', () => {
    const privateOnly = { ...secrets, JWT_PUBLIC_KEY: undefined };
    expect(() => processEnv('users', privateOnly)).toThrow(/JWT_PUBLIC_KEY/);
    const env = { ...processEnv('users', secrets), JWT_PUBLIC_KEY: '' };
    expect(() => loadUsersConfig(env)).toThrow(ConfigError);
    expect(() => loadUsersConfig(env)).toThrow(/JWT_PRIVATE_KEY is set but JWT_PUBLIC_KEY is not/);
  });

  it('the image sets only ports (the rest comes from compose)', () => {
    expect(Object.keys(imageEnv('users')).sort()).toEqual(['GRPC_PORT', 'PORT']);
    expect(inherited(dockerfileStages(), 'gateway', 'ENV')).toMatch(/PORT=8080/);
  });
});

describe('compose media roles', () => {
  it('the media image runs the API and the media-worker image the transcoding worker, from the same configuration', () => {
    const api = loadMediaConfig(processEnv('media', secrets));
    const worker = loadMediaConfig(processEnv('media-worker', secrets));
    expect(api.MEDIA_ROLE).toBe('api');
    expect(worker.MEDIA_ROLE).toBe('worker');
    // one database, one file store, one upload folder for the replicas and the worker
    for (const key of ['DATABASE_URL', 'MEDIA_DIR', 'MEDIA_UPLOAD_DIR', 'REDIS_URL', 'DISCOVERY_URL', 'SERVICE_TOKEN'] as const) expect(worker[key]).toBe(api[key]);
    // and the secrets each role refuses to start without in production are all there
    for (const [role, env, required] of [['media', processEnv('media', secrets), requiredSecrets(api)], ['media-worker', processEnv('media-worker', secrets), workerRequiredSecrets(worker)]] as const) {
      expect({ role, missing: required.filter((k) => !env[k]) }).toEqual({ role, missing: [] });
    }
  });
});
