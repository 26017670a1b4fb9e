import { spawnSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { join } from 'node:path';
import { ConfigError } from '@dream/common';
import { loadUsersConfig } from '../src/config';

/** Users signs tokens: it refuses to start with half a key pair or a public key of another pair. */
describe('users JWT key configuration', () => {
  const pair = () => {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    return {
      priv: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      pub: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    };
  };
  const a = pair();
  const b = pair();
  const oneLine = (pem: string) => pem.replace(/\n/g, '\\n'); // as deploy/jwt-keys-env.cjs writes them for .env

  const problems = (env: NodeJS.ProcessEnv) => {
    try {
      loadUsersConfig(env);
      return [];
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      return (e as ConfigError).problems;
    }
  };

  it('refuses a private key without its public key, saying why and what to do', () => {
    const p = problems({ JWT_PRIVATE_KEY: a.priv });
    expect(p).toHaveLength(1);
    expect(p[0]).toMatch(/JWT_PRIVATE_KEY is set but JWT_PUBLIC_KEY is not.*reject every token.*jwt-keys-env/);
    // compose passes an unset variable as an empty string: the same refusal
    expect(problems({ JWT_PRIVATE_KEY: oneLine(a.priv), JWT_PUBLIC_KEY: '' })[0]).toMatch(/JWT_PUBLIC_KEY is not/);
  });

  it('refuses a public key without the private key it needs to sign', () => {
    expect(problems({ JWT_PUBLIC_KEY: a.pub })[0]).toMatch(/JWT_PUBLIC_KEY is set but JWT_PRIVATE_KEY is not/);
  });

  it('refuses a public key from another pair, and keys that are not PEM', () => {
    expect(problems({ JWT_PRIVATE_KEY: a.priv, JWT_PUBLIC_KEY: b.pub })[0]).toMatch(/not the public half/);
    expect(problems({ JWT_PRIVATE_KEY: 'nope', JWT_PUBLIC_KEY: a.pub })[0]).toMatch(/JWT_PRIVATE_KEY is not a PEM private key/);
    expect(problems({ JWT_PRIVATE_KEY: a.priv, JWT_PUBLIC_KEY: 'nope' })[0]).toMatch(/JWT_PUBLIC_KEY is not a PEM public key/);
  });

  it('starts with a matching pair (multi-line or \\n-escaped) or with neither', () => {
    expect(problems({ JWT_PRIVATE_KEY: a.priv, JWT_PUBLIC_KEY: a.pub })).toEqual([]);
    expect(problems({ JWT_PRIVATE_KEY: oneLine(a.priv), JWT_PUBLIC_KEY: oneLine(a.pub) })).toEqual([]);
    expect(problems({})).toEqual([]);
  });

  it('the users process exits at start with that message, before opening anything', () => {
    const main = join(__dirname, '../src/main.ts');
    const res = spawnSync(process.execPath, ['--import', 'tsx', main], {
      encoding: 'utf8',
      timeout: 60_000,
      // a port and database that would fail loudly if the process got as far as using them
      env: { PATH: process.env.PATH, JWT_PRIVATE_KEY: oneLine(a.priv), PORT: '1', DATABASE_URL: 'sqlite:/nonexistent/dir/x.db' },
    });
    expect(res.status).toBe(1);
    expect(res.stderr).toMatch(/users: invalid configuration:\n {2}- JWT_PRIVATE_KEY is set but JWT_PUBLIC_KEY is not/);
  });
});
