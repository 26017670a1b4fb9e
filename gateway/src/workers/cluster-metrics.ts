import cluster, { type Worker } from 'node:cluster';
import { AggregatorRegistry, type MetricObjectWithValues, type MetricValue, type Registry } from 'prom-client';
import type { Logger } from '@dream/common';
import { metricsRoute, type RouteHandler } from '@dream/common/http';

/**
 * IPC between a worker serving /metrics, the supervisor, and every worker's registry:
 * READY (worker → supervisor, its registry can answer), ASK (worker → supervisor, a scrape),
 * COLLECT / COLLECTED (supervisor ↔ each ready worker), ANSWER (supervisor → the asking worker).
 */
const READY = 'gateway:metrics-ready';
const ASK = 'gateway:metrics-ask';
const COLLECT = 'gateway:metrics-collect';
const COLLECTED = 'gateway:metrics-collected';
const ANSWER = 'gateway:metrics-answer';
/** How long the supervisor waits for every ready worker's series; the asking worker waits a little longer. */
const COLLECT_MS = 5000;
const ASK_MS = COLLECT_MS + 1000;

/** One worker's registry as JSON (what `getMetricsAsJSON` gives and `AggregatorRegistry.aggregate` takes). */
type Series = MetricObjectWithValues<MetricValue<string>>[];

type Message =
  | { type: typeof READY }
  | { type: typeof ASK; id: number }
  | { type: typeof COLLECT; id: number }
  | { type: typeof COLLECTED; id: number; metrics: Series }
  | { type: typeof ANSWER; id: number; text?: string; error?: string };

const TYPES = new Set<string>([READY, ASK, COLLECT, COLLECTED, ANSWER]);
const ours = (m: unknown): m is Message => TYPES.has((m as { type?: unknown } | undefined)?.type as string);

/**
 * The supervisor's side: a worker asking for the gateway's metrics gets, in one Prometheus text, the
 * series of every worker that has its registry up (a worker still starting has served nothing). Each
 * series keeps its `worker="n"` label, so counters are not summed across workers (prom-client's
 * aggregation drops `process_start_time_seconds`, which differs per worker).
 */
export function serveClusterMetrics(logger: Logger): void {
  const ready = new Set<Worker>();
  const collecting = new Map<number, (worker: Worker, metrics: Series) => void>();
  let next = 0;
  const send = (worker: Worker, message: Message) => {
    if (!worker.isConnected()) return;
    worker.send(message, (err: Error | null) => {
      if (err) logger.warn({ err, workerPid: worker.process.pid }, 'gateway metrics: a message to a worker was lost');
    });
  };
  const gather = (): Promise<string> => {
    const id = ++next;
    const from = [...ready].filter((w) => w.isConnected());
    const got = new Map<Worker, Series>();
    return new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => finish(new Error(`${from.length - got.size} of ${from.length} workers did not answer within ${COLLECT_MS} ms`)), COLLECT_MS);
      const finish = (err?: Error) => {
        clearTimeout(timer);
        collecting.delete(id);
        if (err) reject(err);
        else resolve(AggregatorRegistry.aggregate([...got.values()]).metrics());
      };
      collecting.set(id, (worker, metrics) => {
        got.set(worker, metrics);
        if (got.size === from.length) finish();
      });
      if (!from.length) finish();
      for (const w of from) send(w, { type: COLLECT, id });
    });
  };
  cluster.on('exit', (worker: Worker) => ready.delete(worker));
  cluster.on('message', (worker: Worker, message: unknown) => {
    if (!ours(message)) return;
    if (message.type === READY) ready.add(worker);
    else if (message.type === COLLECTED) collecting.get(message.id)?.(worker, message.metrics);
    else if (message.type === ASK)
      gather().then(
        (text) => send(worker, { type: ANSWER, id: message.id, text }),
        (err: unknown) => send(worker, { type: ANSWER, id: message.id, error: err instanceof Error ? err.message : String(err) }),
      );
  });
}

/**
 * A worker's side: hands this worker's registry to the supervisor's collections, and returns the
 * /metrics handler that asks the supervisor for every worker's series. When they cannot be gathered (a
 * worker hung past 5 s, the supervisor gone) the scrape answers 503 rather than one worker's series as
 * if they were the gateway's. Outside a cluster worker it serves this process's registry. One gateway
 * per worker process: the IPC listener lives as long as the process.
 */
export function clusterMetricsRoute(registry: Registry): RouteHandler {
  const toSupervisor = process.send?.bind(process);
  if (!cluster.isWorker || !toSupervisor) return metricsRoute(registry);
  let next = 0;
  const pending = new Map<number, (answer: { text?: string; error?: string }) => void>();
  process.on('message', (message: unknown) => {
    if (!ours(message)) return;
    if (message.type === ANSWER) pending.get(message.id)?.(message);
    else if (message.type === COLLECT)
      // a registry that cannot be read sends nothing: the supervisor's wait runs out and the scrape gets 503
      registry.getMetricsAsJSON().then(
        (metrics) => toSupervisor({ type: COLLECTED, id: message.id, metrics } satisfies Message),
        () => undefined,
      );
  });
  toSupervisor({ type: READY } satisfies Message);
  const ask = (): Promise<{ text?: string; error?: string }> =>
    new Promise((resolve) => {
      const id = ++next;
      const settle = (answer: { text?: string; error?: string }) => {
        clearTimeout(timer);
        pending.delete(id);
        resolve(answer);
      };
      const timer = setTimeout(() => settle({ error: 'the supervisor did not answer' }), ASK_MS);
      pending.set(id, settle);
      toSupervisor({ type: ASK, id } satisfies Message, undefined, {}, (err: Error | null) => {
        if (err) settle({ error: `the supervisor could not be asked (${err.message})` });
      });
    });
  return async (_req, res) => {
    const answer = await ask();
    if (answer.text === undefined) {
      res.writeHead(503, { 'content-type': 'text/plain; charset=utf-8', 'retry-after': '5' });
      res.end(`The workers' metrics could not be gathered: ${answer.error ?? 'no answer'}.\n`);
      return;
    }
    res.writeHead(200, { 'content-type': registry.contentType });
    res.end(answer.text);
  };
}
