import { createReadStream, createWriteStream } from 'node:fs';
import { copyFile, link, lstat, mkdir, open, realpath, rename, rm, stat } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { dirname, join, resolve, sep } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import { assertSafeKey } from './keys';
import { listFilesRelative, putFolderFileByFile } from './folder';
import { NotStoredError, UnsafeKeyError, type ByteRange, type OpenedObject, type Storage, type StoredObject } from './storage';

/**
 * Read size of served files: segments are hundreds of KiB to a few MiB, and node's 64 KiB default makes
 * four times the reads and socket writes for them.
 */
const SERVE_CHUNK_BYTES = 256 * 1024;

const isMissing = (e: unknown) => (e as NodeJS.ErrnoException).code === 'ENOENT' || (e as NodeJS.ErrnoException).code === 'ENOTDIR';

/**
 * Storage on the local disk under `root` (MEDIA_DIR, `./data/media` by default). Every key is checked
 * lexically (`assertSafeKey`) and, before a read, resolved through symlinks so a link planted inside the
 * folder cannot expose a file outside it. Writes go to a temporary name in the same folder and are
 * renamed into place, so a reader sees the old file or the whole new one.
 */
export class LocalDiskStorage implements Storage {
  readonly root: string;
  private realRoot: Promise<string> | undefined;

  constructor(root: string) {
    this.root = resolve(root);
  }

  private pathOf(key: string): string {
    assertSafeKey(key);
    const path = resolve(this.root, ...key.split('/'));
    if (!path.startsWith(this.root + sep)) throw new UnsafeKeyError(key, 'outside the media folder');
    return path;
  }

  /** The real path of `key`'s file, refusing one that resolves (through a symlink) outside the root. */
  private async realPathOf(key: string, path = this.pathOf(key)): Promise<string> {
    this.realRoot ??= mkdir(this.root, { recursive: true }).then(() => realpath(this.root));
    const [root, real] = await Promise.all([this.realRoot, realpath(path)]);
    if (real !== root && !real.startsWith(root + sep)) throw new UnsafeKeyError(key, 'resolves outside the media folder');
    return real;
  }

  private async writeAtomically(key: string, write: (tmp: string) => Promise<void>): Promise<void> {
    const path = this.pathOf(key);
    await mkdir(dirname(path), { recursive: true });
    // a folder on the way that is a symlink out of the root must not receive the file
    await this.realPathOf(key, dirname(path));
    const tmp = `${path}.tmp-${randomBytes(6).toString('hex')}`;
    try {
      await write(tmp);
      await rename(tmp, path);
    } catch (e) {
      await rm(tmp, { force: true });
      throw e;
    }
  }

  putFile(key: string, localPath: string): Promise<void> {
    return this.writeAtomically(key, (tmp) => copyFile(localPath, tmp));
  }

  putStream(key: string, body: Readable): Promise<void> {
    return this.writeAtomically(key, (tmp) => pipeline(body, createWriteStream(tmp, { flags: 'wx' })));
  }

  async copy(from: string, to: string): Promise<void> {
    let real: string;
    try {
      real = await this.realPathOf(from);
    } catch (e) {
      throw isMissing(e) ? new NotStoredError(from) : e;
    }
    // stored files are never written in place (writes rename a new file over the old), so sharing the
    // inode is as good as a copy, and instant; another filesystem or no link support gets a real copy
    await this.writeAtomically(to, (tmp) => link(real, tmp).catch(() => copyFile(real, tmp)));
  }

  putFolder(prefix: string, localDir: string): Promise<void> {
    return putFolderFileByFile(this, prefix, localDir);
  }

  async stat(key: string): Promise<StoredObject | null> {
    try {
      const s = await stat(await this.realPathOf(key));
      return s.isFile() ? { size: s.size } : null;
    } catch (e) {
      if (isMissing(e)) return null;
      throw e;
    }
  }

  async open(key: string): Promise<OpenedObject | null> {
    let handle;
    try {
      handle = await open(await this.realPathOf(key), 'r');
    } catch (e) {
      if (isMissing(e) || (e as NodeJS.ErrnoException).code === 'EISDIR') return null;
      throw e;
    }
    const file = handle;
    try {
      const s = await file.stat();
      if (!s.isFile()) {
        await file.close();
        return null;
      }
      return {
        size: s.size,
        read: async (range) => file.createReadStream({ ...(range ? { start: range.start, end: range.end } : {}), highWaterMark: SERVE_CHUNK_BYTES }),
        close: () => file.close(),
      };
    } catch (e) {
      await file.close();
      throw e;
    }
  }

  async read(key: string, range?: ByteRange): Promise<Readable> {
    let real: string;
    try {
      real = await this.realPathOf(key);
      if (!(await stat(real)).isFile()) throw new NotStoredError(key);
    } catch (e) {
      throw isMissing(e) ? new NotStoredError(key) : e;
    }
    return createReadStream(real, range ? { start: range.start, end: range.end } : {});
  }

  async deletePrefix(prefix: string): Promise<void> {
    // rm does not follow symlinks: a link inside is removed, never its target
    await rm(this.pathOf(prefix), { recursive: true, force: true });
  }

  async usedBytes(prefix: string): Promise<number> {
    const dir = this.pathOf(prefix);
    let files: string[];
    try {
      files = await listFilesRelative(dir);
    } catch (e) {
      if (isMissing(e)) return 0;
      throw e;
    }
    let total = 0;
    // a file removed while we count (a prefix being deleted) counts as gone
    for (const f of files) total += (await lstat(join(dir, ...f.split('/'))).catch((e: unknown) => (isMissing(e) ? { size: 0 } : Promise.reject(e)))).size;
    return total;
  }

  async presignedUrl(): Promise<string | null> {
    return null;
  }
}
