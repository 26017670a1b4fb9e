import { SqliteDialect, type DatabaseConnection, type Driver, type QueryResult, type CompiledQuery, type TransactionSettings } from 'kysely';

/**
 * better-sqlite3 is synchronous: with a long `busy_timeout` a write that meets a locked database
 * (another replica's long transaction, a backup, a migration) blocks the replica's whole event loop —
 * reads, health checks and heartbeats included — for that long (the fault suite measured 10 s read
 * stalls). Here SQLite's own busy wait stays tiny and the rest of the wait is an async retry with
 * backoff, so the process keeps serving while a write waits; after `busyTimeoutMs` the SQLITE_BUSY
 * error surfaces (mapDbError turns it into 503 SERVICE_UNAVAILABLE).
 */
export const SYNC_BUSY_TIMEOUT_MS = 20;

const isBusy = (err: unknown) => (err as { code?: unknown })?.code === 'SQLITE_BUSY';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Called once per statement that found the database locked and is waiting for it. */
export type OnLockWait = () => void;

class RetryingConnection implements DatabaseConnection {
  constructor(
    private readonly inner: DatabaseConnection,
    private readonly busyTimeoutMs: number,
    private readonly onLockWait?: OnLockWait,
  ) {}

  async executeQuery<R>(query: CompiledQuery): Promise<QueryResult<R>> {
    const deadline = Date.now() + this.busyTimeoutMs;
    for (let delay = 5; ; delay = Math.min(delay * 2, 100)) {
      try {
        return await this.inner.executeQuery<R>(query);
      } catch (err) {
        if (!isBusy(err) || Date.now() + delay > deadline) throw err;
        if (delay === 5) this.onLockWait?.();
        await sleep(delay);
      }
    }
  }

  streamQuery<R>(query: CompiledQuery, chunkSize?: number): AsyncIterableIterator<QueryResult<R>> {
    return this.inner.streamQuery<R>(query, chunkSize);
  }
}

class RetryingDriver implements Driver {
  private readonly wrapped = new WeakMap<DatabaseConnection, RetryingConnection>();
  constructor(
    private readonly inner: Driver,
    private readonly busyTimeoutMs: number,
    private readonly onLockWait?: OnLockWait,
  ) {}
  init = () => this.inner.init();
  async acquireConnection(): Promise<DatabaseConnection> {
    const c = await this.inner.acquireConnection();
    let w = this.wrapped.get(c);
    if (!w) this.wrapped.set(c, (w = new RetryingConnection(c, this.busyTimeoutMs, this.onLockWait)));
    return w;
  }
  beginTransaction = (c: DatabaseConnection, s: TransactionSettings) => this.inner.beginTransaction(c, s);
  commitTransaction = (c: DatabaseConnection) => this.inner.commitTransaction(c);
  rollbackTransaction = (c: DatabaseConnection) => this.inner.rollbackTransaction(c);
  releaseConnection = (c: DatabaseConnection) => this.inner.releaseConnection(c);
  destroy = () => this.inner.destroy();
}

/** SqliteDialect whose statements wait for a locked database asynchronously (see above). */
export class AsyncBusySqliteDialect extends SqliteDialect {
  constructor(
    config: ConstructorParameters<typeof SqliteDialect>[0],
    private readonly busyTimeoutMs: number,
    private readonly onLockWait?: OnLockWait,
  ) {
    super(config);
  }
  override createDriver(): Driver {
    return new RetryingDriver(super.createDriver(), this.busyTimeoutMs, this.onLockWait);
  }
}
