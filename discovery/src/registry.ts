import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { InstanceInfo, RouteAnnouncement, ServiceInstance, ServicesSnapshot } from '@dream/common';

/**
 * The registry's state, all in Redis so any number of discovery processes (or a restarted one)
 * share it:
 *   discovery:instance:<id>   hash, PEXPIRE'd to the lease TTL (renewed by heartbeats)
 *   discovery:services        set of service names that have (or had) instances
 *   discovery:service:<name>  set of instance ids of that service
 *   discovery:version         counter, INCR'd on every visible change
 *   discovery:changed         pub/sub channel; the new version is published after each change
 * Every mutation is one Lua script, so two processes never interleave half-done updates.
 * Expired hashes vanish by themselves; `sweep` drops their ids from the index, bumps the version
 * and publishes, which is how watchers learn about expiry (no keyspace notifications needed).
 */
export const PREFIX = 'discovery:';
export const CHANGED_CHANNEL = `${PREFIX}changed`;

/** A registration as discovery accepts it: the same shape every client announces. */
export type InstanceInput = InstanceInfo;

/**
 * The id is derived from (service, url): a restarted instance on the same address gets its old id
 * back, so registration is idempotent and never lists the same instance twice.
 */
export function instanceId(service: string, url: string): string {
  return createHash('sha256').update(`${service}\n${url}`).digest('base64url').slice(0, 20);
}

const REGISTER = `
local p, id, service, url = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local grpcUrl, sdlHash, meta, ttl, now, routes = ARGV[5], ARGV[6], ARGV[7], ARGV[8], ARGV[9], ARGV[10]
local key = p .. 'instance:' .. id
local changed = 1
if redis.call('EXISTS', key) == 1 then
  local old = redis.call('HMGET', key, 'grpcUrl', 'sdlHash', 'meta', 'routes')
  if old[1] == grpcUrl and old[2] == sdlHash and old[3] == meta and (old[4] or '') == routes then changed = 0 end
else
  redis.call('HSET', key, 'id', id, 'service', service, 'url', url, 'registeredAt', now)
end
redis.call('HSET', key, 'grpcUrl', grpcUrl, 'sdlHash', sdlHash, 'meta', meta, 'routes', routes, 'lastHeartbeat', now)
redis.call('PEXPIRE', key, ttl)
redis.call('SADD', p .. 'services', service)
redis.call('SADD', p .. 'service:' .. service, id)
local version
if changed == 1 then
  version = redis.call('INCR', p .. 'version')
  redis.call('PUBLISH', p .. 'changed', version)
else
  version = tonumber(redis.call('GET', p .. 'version') or '0')
end
return version
`;

const HEARTBEAT = `
local key = ARGV[1] .. 'instance:' .. ARGV[2]
if redis.call('EXISTS', key) == 0 then return 0 end
redis.call('HSET', key, 'lastHeartbeat', ARGV[4])
redis.call('PEXPIRE', key, ARGV[3])
return 1
`;

const DEREGISTER = `
local p, id = ARGV[1], ARGV[2]
local key = p .. 'instance:' .. id
local service = redis.call('HGET', key, 'service')
if not service then return 0 end
redis.call('DEL', key)
redis.call('SREM', p .. 'service:' .. service, id)
local version = redis.call('INCR', p .. 'version')
redis.call('PUBLISH', p .. 'changed', version)
return 1
`;

/** Drops ids whose hash expired; returns {removed, version}. */
const SWEEP = `
local p = ARGV[1]
local removed = 0
for _, service in ipairs(redis.call('SMEMBERS', p .. 'services')) do
  local set = p .. 'service:' .. service
  for _, id in ipairs(redis.call('SMEMBERS', set)) do
    if redis.call('EXISTS', p .. 'instance:' .. id) == 0 then
      redis.call('SREM', set, id)
      removed = removed + 1
    end
  end
  if redis.call('SCARD', set) == 0 then redis.call('SREM', p .. 'services', service) end
end
local version
if removed > 0 then
  version = redis.call('INCR', p .. 'version')
  redis.call('PUBLISH', p .. 'changed', version)
else
  version = tonumber(redis.call('GET', p .. 'version') or '0')
end
return {removed, version}
`;

/** The version and every live instance, read atomically. */
const SNAPSHOT = `
local p = ARGV[1]
local out = { tonumber(redis.call('GET', p .. 'version') or '0') }
for _, service in ipairs(redis.call('SMEMBERS', p .. 'services')) do
  for _, id in ipairs(redis.call('SMEMBERS', p .. 'service:' .. service)) do
    local h = redis.call('HGETALL', p .. 'instance:' .. id)
    if #h > 0 then table.insert(out, h) end
  end
end
return out
`;

/** A JSON field we wrote ourselves; a corrupt value is dropped rather than failing the whole listing. */
function parseStored<T>(raw: string | undefined): T | undefined {
  if (!raw) return undefined;
  try {
    return JSON.parse(raw) as T;
  } catch {
    return undefined;
  }
}

function toInstance(flat: string[]): ServiceInstance {
  const h: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) h[flat[i]!] = flat[i + 1]!;
  const inst: ServiceInstance = {
    id: h.id ?? '',
    service: h.service ?? '',
    url: h.url ?? '',
    registeredAt: new Date(Number(h.registeredAt)).toISOString(),
    lastHeartbeat: new Date(Number(h.lastHeartbeat)).toISOString(),
  };
  if (h.grpcUrl) inst.grpcUrl = h.grpcUrl;
  if (h.sdlHash) inst.sdlHash = h.sdlHash;
  const meta = parseStored<Record<string, unknown>>(h.meta);
  if (meta) inst.meta = meta;
  const routes = parseStored<RouteAnnouncement[]>(h.routes);
  if (routes) inst.routes = routes;
  return inst;
}

export class Registry {
  constructor(
    private readonly redis: Redis,
    readonly ttlSeconds: number,
  ) {}

  private run(script: string, args: Array<string | number>): Promise<unknown> {
    // EVAL with the script text: tiny scripts, and it survives a Redis restart (no NOSCRIPT).
    return this.redis.eval(script, 0, PREFIX, ...args);
  }

  async register(input: InstanceInput): Promise<{ id: string; version: number }> {
    const id = instanceId(input.service, input.url);
    const version = await this.run(REGISTER, [
      id,
      input.service,
      input.url,
      input.grpcUrl ?? '',
      input.sdlHash ?? '',
      input.meta === undefined ? '' : JSON.stringify(input.meta),
      this.ttlSeconds * 1000,
      Date.now(),
      input.routes?.length ? JSON.stringify(input.routes) : '',
    ]);
    return { id, version: Number(version) };
  }

  /** False when the lease is unknown or expired (the client re-registers). */
  async heartbeat(id: string): Promise<boolean> {
    return Number(await this.run(HEARTBEAT, [id, this.ttlSeconds * 1000, Date.now()])) === 1;
  }

  async deregister(id: string): Promise<boolean> {
    return Number(await this.run(DEREGISTER, [id])) === 1;
  }

  async sweep(): Promise<{ removed: number; version: number }> {
    const [removed, version] = (await this.run(SWEEP, [])) as [number, number];
    return { removed: Number(removed), version: Number(version) };
  }

  async version(): Promise<number> {
    return Number((await this.redis.get(`${PREFIX}version`)) ?? 0);
  }

  async snapshot(): Promise<ServicesSnapshot> {
    const [version, ...rows] = (await this.run(SNAPSHOT, [])) as [number, ...string[][]];
    const services: Record<string, ServiceInstance[]> = {};
    for (const inst of rows.map(toInstance)) (services[inst.service] ??= []).push(inst);
    const sorted: Record<string, ServiceInstance[]> = {};
    for (const name of Object.keys(services).sort()) {
      // stable order for clients that diff snapshots
      sorted[name] = services[name]!.sort((a, b) => a.registeredAt.localeCompare(b.registeredAt) || a.id.localeCompare(b.id));
    }
    return { version: Number(version), services: sorted };
  }
}
