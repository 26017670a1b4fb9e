/**
 * `npm run test:oracle` waits for the database to answer as the service user, not for the port: checked
 * against the Oracle double's sessions and the errors a starting Oracle gives on the way.
 */
import { OracleDouble } from '@dream/common/testing';
import { OracleNotReady, waitForOracle, type OracleSession } from '../scripts/oracle-ready';

describe('waitForOracle', () => {
  const double = new OracleDouble({ user: 'USERS_TEST' });
  afterAll(() => double.destroy());
  const fail = (code: string, message: string) => Object.assign(new Error(message), { code });

  it('keeps trying through a starting database until select 1 from dual answers as the user', async () => {
    // listener up, PDB not registered → PDB opening → schema not created yet → answers
    const startup = [
      fail('ORA-12514', 'ORA-12514: Cannot connect to database. Service FREEPDB1 is not registered with the listener'),
      fail('ORA-01033', 'ORA-01033: ORACLE initialization or shutdown in progress'),
      fail('ORA-01017', 'ORA-01017: invalid credential or not authorized; logon denied'),
    ];
    const pool = double.pool();
    const connect = async (): Promise<OracleSession> => {
      const next = startup.shift();
      if (next) throw next;
      return pool.getConnection();
    };
    const before = double.executed(/select 1 from dual/).length;
    await expect(waitForOracle({ connect, intervalMs: 1 })).resolves.toEqual({ attempts: 4 });
    expect(double.executed(/select 1 from dual/).length - before).toBe(1);
    // the probing session went back to the pool
    expect(double.openSessions.filter((s) => s.borrowed)).toEqual([]);
    await pool.close();
  });

  it('a listener that accepts but a query that fails is not ready', async () => {
    let attempts = 0;
    const connect = async (): Promise<OracleSession> => {
      attempts++;
      return { execute: async () => Promise.reject(fail('ORA-00942', 'ORA-00942: table or view does not exist')), close: async () => undefined };
    };
    await expect(waitForOracle({ connect, intervalMs: 1, timeoutMs: 50 })).rejects.toThrow(/no answer to `select 1 from dual`.*ORA-00942/);
    expect(attempts).toBeGreaterThan(1);
  });

  it('gives up after a short grace, not the full wait, when nothing listens', async () => {
    const connect = () => Promise.reject(fail('NJS-503', 'NJS-503: connection to host 127.0.0.1 port 1521 could not be established. (CONNECTION_ID=x) connect ECONNREFUSED'));
    const err = await waitForOracle({ connect, intervalMs: 1, timeoutMs: 60_000, refusedGraceMs: 20 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OracleNotReady);
    expect((err as OracleNotReady).nothingListening).toBe(true);
  });
});
