import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import * as tus from 'tus-js-client';
import type { UploadVerdict } from '../../src/upload';

const b64 = (s: string) => Buffer.from(s).toString('base64');

/** Raw tus requests, for the answers a client library would hide. */
export const tusHeaders = (token: string | null, extra: Record<string, string> = {}) => ({
  'tus-resumable': '1.0.0',
  ...(token ? { authorization: `Bearer ${token}` } : {}),
  ...extra,
});

export function createUpload(base: string, token: string | null, size: number, filetype = 'video/mp4', filename = 'lesson.mp4') {
  return fetch(`${base}/media/uploads`, {
    method: 'POST',
    headers: tusHeaders(token, { 'upload-length': String(size), 'upload-metadata': `filename ${b64(filename)},filetype ${b64(filetype)}` }),
  });
}

export function patchUpload(url: string, token: string, offset: number, body: Buffer) {
  return fetch(url, {
    method: 'PATCH',
    headers: tusHeaders(token, { 'upload-offset': String(offset), 'content-type': 'application/offset+octet-stream' }),
    body,
  });
}

export async function uploadOffset(url: string, token: string): Promise<number> {
  const res = await fetch(url, { method: 'HEAD', headers: tusHeaders(token) });
  if (res.status !== 200) throw new Error(`HEAD ${url} → ${res.status}`);
  return Number(res.headers.get('upload-offset'));
}

/**
 * Starts a tus-js-client upload of `data` in four PATCH requests and cuts it once two are stored, while
 * the third is on its way; resolves with the upload URL and the size of one request.
 */
export function uploadHalfThenCut(endpoint: string, token: string, data: Buffer): Promise<{ url: string; chunkSize: number }> {
  const chunkSize = Math.ceil(data.length / 4);
  return new Promise((resolve, reject) => {
    let chunks = 0;
    const upload: tus.Upload = new tus.Upload(data, {
      endpoint,
      chunkSize,
      headers: { authorization: `Bearer ${token}` },
      metadata: { filename: 'lesson.mp4', filetype: 'video/mp4' },
      retryDelays: [],
      onChunkComplete: () => {
        if (++chunks === 2) void upload.abort().then(() => resolve({ url: upload.url!, chunkSize }), reject);
      },
      onSuccess: () => reject(new Error('the upload finished before it could be cut')),
      onError: reject,
    });
    upload.start();
  });
}

/** Continues the upload at `uploadUrl` with tus-js-client (HEAD for the offset, then PATCH the rest). */
export function resumeUpload(uploadUrl: string, token: string, data: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    const upload = new tus.Upload(data, {
      uploadUrl,
      headers: { authorization: `Bearer ${token}` },
      retryDelays: [],
      onSuccess: () => resolve(),
      onError: reject,
    });
    upload.start();
  });
}

/** The same check the service makes (ffprobe: a video stream and a duration), run for real. */
export async function probePlayable(path: string): Promise<UploadVerdict> {
  try {
    const { stdout } = await promisify(execFile)('ffprobe', [
      '-v', 'error', '-select_streams', 'v:0', '-show_entries', 'stream=codec_type:format=duration', '-of', 'json', path,
    ]);
    const info = JSON.parse(stdout) as { streams?: unknown[]; format?: { duration?: string } };
    const ok = (info.streams?.length ?? 0) > 0 && Number(info.format?.duration) > 0;
    return ok ? { playable: true } : { playable: false, reason: 'no video stream or no duration' };
  } catch {
    return { playable: false, reason: 'ffprobe could not read the file' };
  }
}
