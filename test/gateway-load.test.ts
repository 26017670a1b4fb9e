import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';

const root = resolve(__dirname, '..');

/** The gateway has no database and speaks no gRPC: loading it must not load their drivers. */
test('loading the gateway loads neither a database driver nor gRPC', () => {
  const probe = `
    require(${JSON.stringify(resolve(root, 'gateway/src/server.ts'))});
    const loaded = (m) => Object.keys(require.cache).some((k) => k.includes('/node_modules/' + m + '/'));
    console.log(JSON.stringify(['oracledb', 'better-sqlite3', 'kysely', '@grpc/grpc-js'].filter(loaded)));
  `;
  const out = execFileSync(process.execPath, ['--import', 'tsx', '-e', probe], { cwd: root, encoding: 'utf8', timeout: 60_000 });
  expect(JSON.parse(out.trim())).toEqual([]);
});
