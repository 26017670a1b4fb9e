import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Logger } from '@dream/common';
import type { SqlDialect } from '@dream/common/db';
import type { CourseCache } from './course-cache';
import { courseQueries } from './data/queries';
import type { CoursesDb } from './data/types';

/**
 * Cache invalidations that cannot be lost. Every course write records its invalidation in the
 * `cache_outbox` table in the same transaction as the change. The writer then invalidates Redis as
 * before and deletes its row once Redis has it. When Redis could not be reached (a partition, an
 * outage) the row stays, and every replica applies leftover rows on a short timer, at start and as soon
 * as its own Redis connection is back — so a change made by a replica that crashed before it could tell
 * Redis still reaches every cache within one poll interval of Redis being reachable by anyone.
 * Applying a row twice is harmless (an invalidation is idempotent), so no coordination is needed.
 */
export class CacheOutbox {
  private timer?: NodeJS.Timeout;
  private running?: Promise<number>;
  private warnedAt = 0;

  constructor(
    private readonly opts: {
      db: Kysely<CoursesDb>;
      dialect: SqlDialect;
      cache: CourseCache;
      logger: Logger;
      /** How often leftover rows are looked for (default 1000 ms). */
      pollMs?: number;
      /** Rows applied per round (default 200). */
      batch?: number;
      /**
       * The database's statement counter (tests and benchmarks read it as "queries per request"): the
       * poller's own look-ups run in the background, so they are taken back out of it.
       */
      stats?: { queries: number };
    },
  ) {}

  /** An id for the outbox row of a write about to happen. */
  reserve(): string {
    return randomUUID();
  }

  /**
   * After the write committed (with its outbox row `outboxId`): invalidates Redis, and deletes the row
   * when that worked. Never throws: what is left is applied later by some replica.
   */
  async changed(courseId: string, outboxId: string): Promise<void> {
    if (!(await this.opts.cache.changed(courseId))) return;
    try {
      await this.q().deleteOutbox([outboxId]).execute();
    } catch (err) {
      this.warn(err, 'could not delete an applied outbox row (it will be applied again, harmlessly)');
    }
  }

  /** Applies leftover rows (oldest first); resolves with how many were applied. Never throws. */
  applyPending(): Promise<number> {
    if (!this.running) this.running = this.apply().finally(() => (this.running = undefined));
    return this.running;
  }

  private async apply(): Promise<number> {
    let applied = 0;
    try {
      for (;;) {
        const rows = await this.q().pendingOutbox(this.opts.batch ?? 200).execute();
        if (this.opts.stats) this.opts.stats.queries--;
        if (rows.length === 0) break;
        if (!(await this.opts.cache.changed(...new Set(rows.map((r) => r.course_id))))) break;
        await this.q().deleteOutbox(rows.map((r) => r.id)).execute();
        applied += rows.length;
        if (rows.length < (this.opts.batch ?? 200)) break;
      }
    } catch (err) {
      this.warn(err, 'cache outbox could not be applied now; will retry');
    }
    if (applied > 0) this.opts.logger.info({ applied }, 'applied cache invalidations left in the outbox');
    return applied;
  }

  start(): void {
    this.timer = setInterval(() => void this.applyPending(), this.opts.pollMs ?? 1000);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  private q() {
    return courseQueries(this.opts.db, this.opts.dialect);
  }

  private warn(err: unknown, msg: string): void {
    if (Date.now() - this.warnedAt < 10_000) return;
    this.warnedAt = Date.now();
    this.opts.logger.warn({ err: (err as Error)?.message }, msg);
  }
}
