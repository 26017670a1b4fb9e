import { Counter, type Registry } from 'prom-client';
import type { Database } from './db';

/**
 * The database's own counters on /metrics. Lock waits show replicas contending for SQLite's single
 * writer (or an outside transaction holding it): a rising rate explains slow or 503 writes.
 */
export function registerDatabaseMetrics(registry: Registry, stats: Database<unknown>['stats']): void {
  let reported = 0;
  new Counter({
    name: 'db_lock_waits_total',
    help: 'Statements that found the database locked by another writer and waited for it',
    registers: [registry],
    collect() {
      // read at scrape time: the driver counts in a plain field, without knowing about metrics
      this.inc(stats.lockWaits - reported);
      reported = stats.lockWaits;
    },
  });
}
