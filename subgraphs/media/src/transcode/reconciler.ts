import type { Logger } from '@dream/common';
import type { TranscodeJobData } from './job';
import type { TranscodeQueue } from './queue';

export interface ReconcileOptions {
  queue: TranscodeQueue;
  /** Lessons whose row says PROCESSING, with the asset they are processing (from the service core). */
  listProcessing(): Promise<TranscodeJobData[]>;
  logger: Logger;
}

export interface ReconcileReport {
  /** Assets that had no job (lost with a Redis that was wiped, or never queued) and were queued again. */
  requeued: string[];
  /**
   * Assets whose job had already finished while the lesson still says PROCESSING (its last status
   * callback was lost with the process): queued again, as their output or failure cannot be trusted.
   */
  restarted: string[];
  /** Assets with a job waiting, delayed or running: left alone. */
  inFlight: string[];
}

/**
 * Run at service start: every lesson left PROCESSING must have a live job, or it would stay PROCESSING
 * for ever. Queueing is idempotent per asset, so two replicas reconciling at once queue one job.
 */
export async function reconcileTranscodes(opts: ReconcileOptions): Promise<ReconcileReport> {
  const report: ReconcileReport = { requeued: [], restarted: [], inFlight: [] };
  for (const data of await opts.listProcessing()) {
    const state = await opts.queue.state(data.assetId);
    if (state === 'missing') report.requeued.push(data.assetId);
    else if (state === 'completed' || state === 'failed') report.restarted.push(data.assetId);
    else {
      report.inFlight.push(data.assetId);
      continue;
    }
    await opts.queue.enqueue(data);
  }
  if (report.requeued.length || report.restarted.length) opts.logger.info(report, 'transcodes reconciled');
  return report;
}
