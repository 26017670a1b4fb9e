import { randomUUID } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import { ERRORS, type Lock, type Locker, type RequestRelease } from '@tus/server';
import type { Redis } from '@dream/common';

export interface RedisLockerOptions {
  /** The service's Redis connection; a second one is opened from it for the release requests. */
  redis: Redis;
  /** Key and channel prefix. */
  prefix?: string;
  /** A lock not renewed for this long is free again: the bound on how long a crashed replica blocks an upload. */
  leaseMs?: number;
  /** How long a request waits for a lock before the tus answer "lock timeout". */
  acquireTimeoutMs?: number;
  /** Pause between two attempts to take a held lock. */
  retryMs?: number;
}

// Deletes or renews the lock only while it is still ours: after a lease ran out another replica may hold it.
const RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end";
const RENEW = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end";

/**
 * tus locks shared by every media replica through Redis, so two requests for one upload never write
 * at once even when they reach different replicas (during a pool change the gateway's sticky routing
 * can move an upload). Like tus's in-memory locker, a request that finds the lock taken asks its holder
 * to let go (a client that reconnects wins over its own stalled request): the ask is published on a
 * channel every replica listens to, and the replica holding the lock calls the holder's release.
 */
export class RedisLocker implements Locker {
  readonly redis: Redis;
  readonly prefix: string;
  readonly leaseMs: number;
  readonly acquireTimeoutMs: number;
  readonly retryMs: number;
  /** Release callbacks of the locks held in this process, by upload id. */
  readonly holders = new Map<string, RequestRelease>();
  private readonly subscriber: Redis;
  private readonly ready: Promise<unknown>;

  constructor(options: RedisLockerOptions) {
    this.redis = options.redis;
    this.prefix = options.prefix ?? 'media:tus-lock:';
    this.leaseMs = options.leaseMs ?? 30_000;
    this.acquireTimeoutMs = options.acquireTimeoutMs ?? 30_000;
    this.retryMs = options.retryMs ?? 50;
    this.subscriber = this.redis.duplicate();
    this.subscriber.on('message', (_channel: string, id: string) => void this.holders.get(id)?.());
    this.ready = this.subscriber.subscribe(this.channel);
    // a SUBSCRIBE that times out (a slow Redis at start) must not crash the process as an unhandled
    // rejection: ioredis subscribes again on reconnect, and whenReady() still reports the failure
    this.ready.catch(() => undefined);
  }

  get channel(): string {
    return `${this.prefix}release`;
  }

  newLock(id: string): Lock {
    return new RedisLock(this, id);
  }

  /** Waits until release requests are received (a test or the service's readiness). */
  async whenReady(): Promise<void> {
    await this.ready;
  }

  async close(): Promise<void> {
    this.subscriber.disconnect();
  }
}

class RedisLock implements Lock {
  private readonly owner = randomUUID();
  private renewTimer: NodeJS.Timeout | undefined;
  private release: RequestRelease | undefined;

  constructor(
    private readonly locker: RedisLocker,
    private readonly id: string,
  ) {}

  private get key(): string {
    return `${this.locker.prefix}${this.id}`;
  }

  async lock(signal: AbortSignal, requestRelease: RequestRelease): Promise<void> {
    const { redis, leaseMs, retryMs } = this.locker;
    const deadline = Date.now() + this.locker.acquireTimeoutMs;
    while ((await redis.set(this.key, this.owner, 'PX', leaseMs, 'NX')) !== 'OK') {
      await redis.publish(this.locker.channel, this.id);
      if (signal.aborted || Date.now() > deadline) throw ERRORS.ERR_LOCK_TIMEOUT;
      await delay(retryMs, undefined, { signal }).catch(() => undefined);
    }
    this.release = requestRelease;
    this.locker.holders.set(this.id, requestRelease);
    this.renewTimer = setInterval(() => {
      void redis.eval(RENEW, 1, this.key, this.owner, String(leaseMs)).catch(() => undefined);
    }, Math.max(10, Math.floor(leaseMs / 3)));
    this.renewTimer.unref();
  }

  async unlock(): Promise<void> {
    clearInterval(this.renewTimer);
    // only our own entry: after a lease ran out, a later request in this process may hold the lock
    if (this.locker.holders.get(this.id) === this.release) this.locker.holders.delete(this.id);
    await this.locker.redis.eval(RELEASE, 1, this.key, this.owner);
  }
}
