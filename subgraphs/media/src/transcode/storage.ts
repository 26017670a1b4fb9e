/**
 * What the transcoder needs from media storage, and nothing more. The storage module's real stores (local
 * disk, S3) implement it; the service core passes one to startTranscodeWorker.
 */
export interface TranscodeStorage {
  /**
   * A local file to read the uploaded source at `key` from. A local store answers the file itself; a remote
   * store downloads it to a temporary file. `release()` is called when the transcode is over (success or
   * not) and removes such a download; a local store does nothing.
   */
  fetchSource(key: string): Promise<{ path: string; release(): Promise<void> }>;
  /**
   * Publishes the finished output folder `localDir` (master.m3u8, 360p/, 720p/, video.mp4, poster.jpg)
   * under `key`, each file written whole; files already there (an earlier attempt of the same job) are
   * replaced. The caller never names a key that is being served: the service core switches a lesson to
   * an output only after this returns. After it returns, `localDir` may be gone or left for the caller,
   * which removes it.
   */
  putFolder(localDir: string, key: string): Promise<void>;
}
