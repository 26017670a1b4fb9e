import { readdir } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { joinKey } from './keys';
import type { Storage } from './storage';

/** Files of every folder under `dir`, as paths relative to it with `/` separators. */
export async function listFilesRelative(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)).split(sep).join('/'))
    .sort();
}

/** `Storage.putFolder` on top of `putFile`, file by file, for every backend. */
export async function putFolderFileByFile(storage: Pick<Storage, 'putFile'>, prefix: string, localDir: string): Promise<void> {
  for (const file of await listFilesRelative(localDir)) {
    await storage.putFile(joinKey(prefix, file), join(localDir, ...file.split('/')));
  }
}
