import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadJwtKeys, type JwtKeys } from '../jwt';

/**
 * One RSA key pair for the unit tests of token code, generated on first use and then read from the temp
 * folder: a 2048-bit pair costs a noticeable share of a unit test file's run, and the mutation runs load
 * those files once per mutant. Tests that need a key nobody else has generate their own.
 */
export function testJwtKeys(): JwtKeys {
  return loadJwtKeys({ JWT_KEYS_DIR: join(tmpdir(), 'dream-and-study-test-jwt-keys') });
}
