import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OracleDouble } from './oracle-double';

/** One database a repository suite runs on. `url` is read when the suite opens it. */
export interface RepositoryTarget {
  name: string;
  url: () => string;
  /** Set for the Oracle double, so a suite can check what was committed and which sessions are open. */
  double?: OracleDouble;
}

export interface RepositoryTargets {
  targets: RepositoryTarget[];
  /** The Oracle double every suite checks at the end: what was sent to it, and that nothing was refused. */
  double: OracleDouble;
}

/**
 * The databases every repository suite runs on, the same for each subgraph: SQLite in a temporary folder
 * (always), the Oracle dialect against the double that keeps Oracle's commit semantics and refuses SQL 23ai
 * would refuse (always), and a real Oracle when ORACLE_URL is set (e.g.
 * oracle://user:pass@localhost:1521/FREEPDB1). Call it at the top of a test file: it registers the file's
 * cleanup (the folder and the double) itself. Suites use fresh ids per run, so a shared Oracle schema is fine.
 */
export function repositoryTargets(service: string): RepositoryTargets {
  const dir = mkdtempSync(join(tmpdir(), `${service}-repo-`));
  const user = `${service.toUpperCase()}_TEST`;
  const double = new OracleDouble({ user });
  const targets: RepositoryTarget[] = [
    { name: 'sqlite', url: () => `sqlite:${join(dir, `${service}.db`)}` },
    { name: 'the oracle double', url: () => `oracle://${user}:x@double:1521/FREEPDB1`, double },
  ];
  const oracleUrl = process.env.ORACLE_URL;
  if (oracleUrl) targets.push({ name: 'oracle', url: () => oracleUrl });
  afterAll(async () => {
    rmSync(dir, { recursive: true, force: true });
    await double.destroy();
  });
  return { targets, double };
}
