import { createHash } from 'node:crypto';
import { mkdir, open, readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * One upload per token: creating an upload claims the token by creating a marker file named after its
 * hash with O_EXCL, which is atomic on one disk and on the shared upload volume the replicas use.
 * A marker outlives the token (its expiry is shorter than `maxAgeMs`) and is then swept.
 */
export class TokenClaims {
  private readonly dir: string;

  constructor(uploadDir: string) {
    this.dir = join(uploadDir, '.claims');
  }

  /** True when this call claimed `token`; false when an upload was already created with it. */
  async claim(token: string): Promise<boolean> {
    await mkdir(this.dir, { recursive: true });
    const name = createHash('sha256').update(token).digest('hex');
    try {
      await (await open(join(this.dir, name), 'wx')).close();
      return true;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw e;
    }
  }

  /** Removes markers older than `maxAgeMs`; returns how many. */
  async sweep(maxAgeMs: number, now = Date.now()): Promise<number> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch {
      return 0;
    }
    let removed = 0;
    for (const name of names) {
      const path = join(this.dir, name);
      const s = await stat(path).catch(() => null);
      if (s && now - s.mtimeMs > maxAgeMs) {
        await rm(path, { force: true });
        removed++;
      }
    }
    return removed;
  }
}
