import { createHash } from 'node:crypto';
import { execFile } from 'node:child_process';
import { createReadStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Disposables } from '@dream/common/testing';

/** A fresh temporary folder removed by `disposables`. */
export function tempDir(disposables: Disposables, name = 'media-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), name));
  disposables.defer(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A small real video (ffmpeg's testsrc + a tone) at `dir/name`. */
export async function makeTestVideo(dir: string, { seconds = 3, name = 'source.mp4' } = {}): Promise<string> {
  const out = join(dir, name);
  await promisify(execFile)('ffmpeg', [
    '-hide_banner', '-loglevel', 'error', '-y',
    '-f', 'lavfi', '-i', `testsrc=duration=${seconds}:size=320x240:rate=25`,
    '-f', 'lavfi', '-i', `sine=frequency=440:duration=${seconds}`,
    '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-shortest', out,
  ]);
  return out;
}

export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

export async function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(typeof c === 'string' ? Buffer.from(c) : (c as Buffer));
  return Buffer.concat(chunks);
}
