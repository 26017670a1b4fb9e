/**
 * Waits until an Oracle database answers `select 1 from dual` as a given user: a listener that accepts
 * TCP (or a PDB that is open) is not yet a database the tests can use. On the compose Oracle's first start
 * the listener comes up first, then the PDB opens (ORA-12514/ORA-01033 meanwhile), then the init script
 * creates the schemas (ORA-01017 until it has); only then does the service user get an answer.
 */

export interface OracleSession {
  execute(sql: string): Promise<unknown>;
  close(): Promise<void>;
}

export interface WaitForOracleOptions {
  /** Opens one session as the service user (oracledb.getConnection in the script; a double in tests). */
  connect: () => Promise<OracleSession>;
  /** Give up after this long (default 10 min: a first start of Oracle Free takes several). */
  timeoutMs?: number;
  /** Between attempts (default 3 s). */
  intervalMs?: number;
  /**
   * How long connections may be refused outright before giving up (default 20 s: a container that was
   * just started publishes its port a moment later, but a stopped one never does).
   */
  refusedGraceMs?: number;
  /** Progress lines (the last error), at most every 30 s. */
  onWaiting?: (lastError: string, waitedMs: number) => void;
}

/** Nothing listens at all: waiting would only turn a clear message into a long timeout. */
const NOTHING_LISTENING = /ECONNREFUSED|NJS-503|NJS-511|ENOTFOUND|EAI_AGAIN/;

export class OracleNotReady extends Error {
  constructor(
    message: string,
    readonly nothingListening: boolean,
  ) {
    super(message);
    this.name = 'OracleNotReady';
  }
}

export async function waitForOracle(opts: WaitForOracleOptions): Promise<{ attempts: number }> {
  const timeoutMs = opts.timeoutMs ?? 600_000;
  const intervalMs = opts.intervalMs ?? 3000;
  const started = Date.now();
  let lastReport = started;
  for (let attempts = 1; ; attempts++) {
    let error: string;
    try {
      const session = await opts.connect();
      try {
        await session.execute('select 1 from dual');
        return { attempts };
      } finally {
        await session.close().catch(() => undefined);
      }
    } catch (e) {
      const err = e as { message?: string; code?: string };
      error = `${err.code ?? ''} ${err.message ?? String(e)}`.trim();
      if (NOTHING_LISTENING.test(error) && Date.now() - started >= (opts.refusedGraceMs ?? 20_000)) throw new OracleNotReady(error, true);
    }
    const waited = Date.now() - started;
    if (waited + intervalMs > timeoutMs) {
      throw new OracleNotReady(`no answer to \`select 1 from dual\` after ${Math.round(waited / 1000)} s (${attempts} attempts); last error: ${error}`, false);
    }
    if (Date.now() - lastReport >= 30_000) {
      lastReport = Date.now();
      opts.onWaiting?.(error, waited);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
