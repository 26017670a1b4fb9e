import type { Logger } from '@dream/common';
import { Router, startHttpService, type HealthReport, type HttpService } from '@dream/common/http';

export interface WorkerHealthChecks {
  database(): Promise<boolean>;
  redis(): Promise<boolean>;
  /** The BullMQ loop of this process is taking jobs. */
  worker(): boolean;
}

/**
 * The worker's /health: it serves no API, so this is its only answer to an orchestrator. Everything it
 * checks is essential to a worker (jobs arrive over Redis, results go to the database), so any of them
 * down answers 500: Docker marks the container unhealthy and Kubernetes restarts it, while a worker that
 * silently lost its queue would otherwise look alive forever.
 */
export function workerHealth(checks: WorkerHealthChecks): () => Promise<HealthReport> {
  return async () => {
    const [db, redis] = await Promise.all([checks.database(), checks.redis()]);
    const worker = checks.worker();
    const down = [...(db ? [] : ['database']), ...(redis ? [] : ['redis']), ...(worker ? [] : ['worker'])];
    return {
      ok: down.length === 0,
      role: 'worker',
      db: db ? 'up' : 'down',
      redis: redis ? 'up' : 'down',
      worker: worker ? 'running' : 'stopped',
      ...(down.length ? { reason: `${down.join(', ')} unavailable` } : {}),
    };
  };
}

/** GET /health (and nothing else) on PORT/HOST, as the API replicas serve theirs. */
export function startWorkerHealthServer(opts: { port: number; host?: string; logger: Logger; checks: WorkerHealthChecks }): Promise<HttpService> {
  return startHttpService({ port: opts.port, host: opts.host, logger: opts.logger, router: new Router(), health: workerHealth(opts.checks) });
}
