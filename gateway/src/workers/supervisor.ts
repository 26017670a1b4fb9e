import cluster, { type Worker } from 'node:cluster';
import { EventEmitter } from 'node:events';
import type { Logger } from '@dream/common';

/** Environment a worker reads to know its slot (1..N, stable across restarts: the metrics' `worker` label). */
export const WORKER_SLOT_ENV = 'GATEWAY_WORKER_SLOT';
/** Set ('1') for a worker that joins a cluster already serving (every slot but the first one's first start): it listens once it has a supergraph. */
export const WORKER_JOINS_ENV = 'GATEWAY_WORKER_JOINS';

/** True when this worker should wait for its first supergraph before it takes connections. */
export const workerJoins = (): boolean => cluster.isWorker && process.env[WORKER_JOINS_ENV] === '1';

/** This process's worker slot when it is a cluster worker, else undefined (a single-process gateway). */
export function workerSlot(): number | undefined {
  if (!cluster.isWorker) return undefined;
  const n = Number(process.env[WORKER_SLOT_ENV]);
  return Number.isInteger(n) && n > 0 ? n : undefined;
}

export interface SupervisorOptions {
  workers: number;
  logger: Logger;
  /** Restart delay after a worker dies; doubles for each death that follows a short life, up to `maxBackoffMs`. */
  backoffMs?: number;
  maxBackoffMs?: number;
  /** A worker that lived this long dies "for the first time" again (the delay goes back to `backoffMs`). */
  stableMs?: number;
  /** After SIGTERM, workers still running this long are killed. */
  drainTimeoutMs?: number;
}

interface Slot {
  n: number;
  worker?: Worker;
  startedAt: number;
  listened: boolean;
  quickDeaths: number;
  restart?: NodeJS.Timeout;
}

export interface Supervisor extends EventEmitter {
  /** Pids of the live workers, by slot. */
  pids(): number[];
  /** SIGTERM to every worker (each drains: stops accepting, ends its WebSockets, closes Redis), then waits for all; kills the rest after the drain timeout. */
  stop(): Promise<void>;
  /** Resolves once every slot has a listening worker for the first time; rejects when a worker fails before any ever listened. */
  listening: Promise<number>;
}

/**
 * The primary of a multi-process gateway: forks one worker per slot (each runs the whole gateway on the
 * same port through node:cluster, which hands each new connection to the next worker), restarts a
 * worker that dies after a backoff, and stops them all on `stop()`. It runs no gateway code itself, so
 * it stays small and up while workers come and go.
 */
export function startSupervisor(o: SupervisorOptions): Supervisor {
  const { logger, backoffMs = 200, maxBackoffMs = 10_000, stableMs = 10_000, drainTimeoutMs = 15_000 } = o;
  const events = new EventEmitter() as Supervisor;
  const slots: Slot[] = Array.from({ length: o.workers }, (_, i) => ({ n: i + 1, startedAt: 0, listened: false, quickDeaths: 0 }));
  let stopping = false;
  let everListened = false;
  let onListening!: (port: number) => void;
  let onStartFailure!: (err: Error) => void;
  events.listening = new Promise<number>((res, rej) => ((onListening = res), (onStartFailure = rej)));
  events.listening.catch(() => undefined);

  const fork = (slot: Slot) => {
    // the first slot's first worker listens at once (503 until a supergraph composes, like a single
    // process); every other worker joins a port that may already be served, so it waits for one
    // (a slot that started before is a restart)
    const joins = slot.n > 1 || slot.startedAt > 0;
    slot.restart = undefined;
    slot.startedAt = Date.now();
    slot.listened = false;
    const worker = cluster.fork({ [WORKER_SLOT_ENV]: String(slot.n), [WORKER_JOINS_ENV]: joins ? '1' : '0', GATEWAY_WORKERS: String(o.workers) });
    slot.worker = worker;
    worker.on('listening', (address: { port: number }) => {
      slot.listened = true;
      logger.info({ worker: slot.n, workerPid: worker.process.pid }, 'gateway worker listening');
      if (!everListened && slots.every((s) => s.listened)) {
        everListened = true;
        logger.info({ port: address.port, workers: o.workers }, 'gateway listening');
        onListening(address.port);
      }
    });
    worker.on('exit', (code: number | null, signal: string | null) => {
      if (slot.worker === worker) slot.worker = undefined;
      events.emit('exit', { slot: slot.n, pid: worker.process.pid, code, signal });
      if (stopping) return;
      if (!slot.listened && !everListened) {
        // a worker that cannot even start (port taken, bad key file…) would fail the same way forever
        logger.error({ worker: slot.n, code, signal }, 'gateway worker exited before it served: stopping');
        onStartFailure(new Error(`gateway worker ${slot.n} exited with ${signal ?? code} before it served`));
        return;
      }
      slot.quickDeaths = Date.now() - slot.startedAt < stableMs ? slot.quickDeaths + 1 : 0;
      const delay = Math.min(backoffMs * 2 ** Math.max(0, slot.quickDeaths - 1), maxBackoffMs);
      logger.warn({ worker: slot.n, workerPid: worker.process.pid, code, signal, restartInMs: delay }, 'gateway worker died; restarting it');
      slot.restart = setTimeout(() => {
        if (stopping) return;
        fork(slot);
        events.emit('restarted', { slot: slot.n, pid: slot.worker?.process.pid });
      }, delay);
    });
  };

  for (const slot of slots) fork(slot);

  events.pids = () => slots.flatMap((s) => (s.worker?.process.pid ? [s.worker.process.pid] : []));
  events.stop = async () => {
    stopping = true;
    const live = slots.flatMap((s) => {
      clearTimeout(s.restart);
      return s.worker && s.worker.process.exitCode === null && s.worker.process.signalCode === null ? [s.worker] : [];
    });
    const exited = live.map((w) => new Promise<void>((res) => w.process.once('exit', () => res())));
    for (const w of live) w.process.kill('SIGTERM');
    const timer = setTimeout(() => {
      for (const w of live) if (w.process.exitCode === null && w.process.signalCode === null) {
        logger.warn({ workerPid: w.process.pid }, 'gateway worker did not drain in time; killing it');
        w.process.kill('SIGKILL');
      }
    }, drainTimeoutMs);
    await Promise.all(exited);
    clearTimeout(timer);
  };
  return events;
}
