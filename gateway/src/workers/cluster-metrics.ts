import cluster, { type Worker } from 'node:cluster';
import { AggregatorRegistry, type Registry } from 'prom-client';
import type { Logger } from '@dream/common';
import type { RouteHandler } from '@dream/common/http';

/** IPC between a worker serving /metrics and the supervisor that gathers every worker's series. */
const REQUEST = 'gateway:cluster-metrics-request';
const ANSWER = 'gateway:cluster-metrics-answer';
/** prom-client gives up on a worker after 5 s; the asking worker waits a little longer than that. */
const WAIT_MS = 6000;

interface MetricsRequest {
  type: typeof REQUEST;
  id: number;
}
interface MetricsAnswer {
  type: typeof ANSWER;
  id: number;
  text?: string;
  error?: string;
}

const isRequest = (m: unknown): m is MetricsRequest => (m as MetricsRequest | undefined)?.type === REQUEST;
const isAnswer = (m: unknown): m is MetricsAnswer => (m as MetricsAnswer | undefined)?.type === ANSWER;

/**
 * The supervisor's side: a worker asking for the gateway's metrics gets every live worker's series in one
 * Prometheus text (prom-client's AggregatorRegistry). Each worker labels its series `worker="n"`, so
 * nothing is summed away: a scrape sees all workers whichever one took the connection.
 */
export function serveClusterMetrics(logger: Logger): void {
  const aggregator = new AggregatorRegistry();
  cluster.on('message', (worker: Worker, message: unknown) => {
    if (!isRequest(message)) return;
    const reply = (answer: Omit<MetricsAnswer, 'type' | 'id'>) => {
      if (!worker.isConnected()) return;
      worker.send({ type: ANSWER, id: message.id, ...answer } satisfies MetricsAnswer, (err: Error | null) => {
        if (err) logger.warn({ err, workerPid: worker.process.pid }, 'could not hand the gathered metrics to the worker');
      });
    };
    aggregator.clusterMetrics().then(
      (text) => reply({ text }),
      (err: Error) => reply({ error: err.message }),
    );
  });
}

/**
 * A worker's side: answers this worker's registry to the supervisor's collection, and returns the
 * /metrics handler that asks the supervisor for all workers' series. When the supervisor cannot answer
 * (a worker hung past prom-client's 5 s), the scrape fails with 503 rather than showing one worker's
 * series as if they were the gateway's.
 */
export function clusterMetricsRoute(registry: Registry): RouteHandler {
  AggregatorRegistry.setRegistries([registry]);
  new AggregatorRegistry(); // answers the supervisor's collection requests in this worker
  let next = 0;
  const pending = new Map<number, (answer: MetricsAnswer) => void>();
  process.on('message', (message: unknown) => {
    if (isAnswer(message)) pending.get(message.id)?.(message);
  });
  const gather = (): Promise<MetricsAnswer> =>
    new Promise((resolve) => {
      const id = ++next;
      const timer = setTimeout(() => settle({ type: ANSWER, id, error: 'the supervisor did not answer' }), WAIT_MS);
      const settle = (answer: MetricsAnswer) => {
        clearTimeout(timer);
        pending.delete(id);
        resolve(answer);
      };
      pending.set(id, settle);
      process.send?.({ type: REQUEST, id } satisfies MetricsRequest);
    });
  return async (_req, res) => {
    const answer = await gather();
    if (answer.text === undefined) {
      res.writeHead(503, { 'content-type': 'text/plain; charset=utf-8', 'retry-after': '5' });
      res.end(`The workers' metrics could not be gathered: ${answer.error ?? 'no answer'}.\n`);
      return;
    }
    res.writeHead(200, { 'content-type': registry.contentType });
    res.end(answer.text);
  };
}
