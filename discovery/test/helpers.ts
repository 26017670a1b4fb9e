import { EventEmitter } from 'node:events';
import type { ServicesSnapshot } from '@dream/common';
import { loadDiscoveryConfig } from '../src/config';
import { startDiscovery, type DiscoveryHandle } from '../src/server';

/** A discovery server in this process on `port` (0 = free port) against `redisUrl`. */
export function startTestDiscovery(redisUrl: string, opts: { port?: number; ttlSeconds?: number; sweepMs?: number } = {}): Promise<DiscoveryHandle> {
  const config = loadDiscoveryConfig({
    PORT: String(opts.port ?? 0),
    HOST: '127.0.0.1',
    REDIS_URL: redisUrl,
    DISCOVERY_TTL_SECONDS: String(opts.ttlSeconds ?? 10),
    DISCOVERY_SWEEP_MS: String(opts.sweepMs ?? 200),
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
  });
  return startDiscovery(config);
}

export interface JsonResponse<T = any> {
  status: number;
  body: T;
}

export async function http<T = any>(method: string, url: string, body?: unknown, raw?: string): Promise<JsonResponse<T>> {
  const res = await fetch(url, {
    method,
    headers: body !== undefined || raw !== undefined ? { 'content-type': 'application/json' } : {},
    body: raw ?? (body === undefined ? undefined : JSON.stringify(body)),
    signal: AbortSignal.timeout(10000),
  });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as T) : (undefined as T) };
}

/** Collects snapshots a watcher delivers, so tests can wait for one matching a condition. */
export class SnapshotLog extends EventEmitter {
  readonly all: ServicesSnapshot[] = [];
  readonly push = (s: ServicesSnapshot) => {
    this.all.push(s);
    this.emit('snapshot', s);
  };
  get last(): ServicesSnapshot | undefined {
    return this.all[this.all.length - 1];
  }
}

export const urlsOf = (s: ServicesSnapshot | undefined, service: string) => (s?.services[service] ?? []).map((i) => i.url).sort();
