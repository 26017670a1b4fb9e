/** How far ahead of the playhead hls.js buffers. */
export const FORWARD_BUFFER_SECONDS = 30;

/** Detaches the source (stops hls.js and its network requests). */
export type Detach = () => void;

/**
 * Plays `hlsUrl` in `video`: through hls.js (loaded here, so only the player page downloads it) where
 * Media Source Extensions exist, natively where the browser plays HLS itself (Safari on iOS has no MSE),
 * and the progressive MP4 otherwise. `onFatal` gets a sentence when playback cannot go on.
 */
export async function attachSource(video: HTMLVideoElement, urls: { hlsUrl: string; mp4Url: string }, onFatal: (message: string) => void): Promise<Detach> {
  // the light build: our renditions carry no subtitles, alternate audio or DRM, so those parts stay out
  const { default: Hls } = await import('hls.js/light');
  if (Hls.isSupported()) {
    // at most 30 s ahead: hls.js would otherwise keep fetching up to 10 minutes of a low-bitrate
    // lesson, bytes a student who seeks or leaves never watches (and every byte is egress for us)
    const hls = new Hls({ startPosition: -1, maxBufferLength: FORWARD_BUFFER_SECONDS, maxMaxBufferLength: FORWARD_BUFFER_SECONDS });
    hls.on(Hls.Events.ERROR, (_event, data) => {
      if (!data.fatal) return;
      // a network hiccup is retried by hls.js itself; a fatal one ends playback with a reason
      const why = data.type === Hls.ErrorTypes.NETWORK_ERROR ? 'the video could not be downloaded' : 'the video could not be decoded';
      onFatal(`Playback stopped: ${why} (${data.details}). Reload the page to try again.`);
    });
    hls.loadSource(urls.hlsUrl);
    hls.attachMedia(video);
    return () => hls.destroy();
  }
  video.src = video.canPlayType('application/vnd.apple.mpegurl') ? urls.hlsUrl : urls.mp4Url;
  const onError = () => onFatal('Playback stopped: this browser could not play the video. Reload the page to try again.');
  video.addEventListener('error', onError);
  return () => {
    video.removeEventListener('error', onError);
    video.removeAttribute('src');
    video.load();
  };
}
