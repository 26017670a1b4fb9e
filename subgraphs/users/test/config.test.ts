import { generateKeyPairSync } from 'node:crypto';
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
});
