import { dummyHash, hashPassword, verifyPassword } from '../src/passwords';

describe('argon2id passwords', () => {
  it('hashes with argon2id in PHC format and a random salt', async () => {
    const a = await hashPassword('correct horse battery');
    const b = await hashPassword('correct horse battery');
    expect(a).toMatch(/^\$argon2id\$v=19\$m=\d+,t=\d+,p=\d+\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+$/);
    expect(a).not.toBe(b);
  });

  it('verifies the right password and refuses a wrong one', async () => {
    const h = await hashPassword('correct horse battery');
    await expect(verifyPassword(h, 'correct horse battery')).resolves.toBe(true);
    await expect(verifyPassword(h, 'correct horse batterY')).resolves.toBe(false);
    await expect(verifyPassword(h, '')).resolves.toBe(false);
  });

  it('treats a malformed hash as a failed verification, not a crash', async () => {
    await expect(verifyPassword('not-a-hash', 'whatever1')).resolves.toBe(false);
  });

  it('the dummy hash is a real argon2id hash nobody knows the password of', async () => {
    const d = await dummyHash();
    expect(d).toMatch(/^\$argon2id\$/);
    expect(await dummyHash()).toBe(d);
    await expect(verifyPassword(d, 'password')).resolves.toBe(false);
  });
});
