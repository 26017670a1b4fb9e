/**
 * The bits of HLS a player needs to walk a VOD stream: the URIs a playlist names, resolved against the
 * playlist's own URL (playback URLs carry their signed token in the path, so relative URIs inherit it).
 * k6 has no URL class; these URLs are plain http(s) paths without query strings.
 */

/** The non-comment lines of an m3u8 playlist: variant playlists in a master, segments in a variant. */
export function playlistUris(text: string): string[] {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
}

/** `uri` as the browser would resolve it against `base`: absolute, root-relative or relative to its folder. */
export function resolveUri(base: string, uri: string): string {
  if (/^https?:\/\//.test(uri)) return uri;
  const origin = /^(https?:\/\/[^/]+)/.exec(base)?.[1] ?? '';
  if (uri.startsWith('/')) return `${origin}${uri}`;
  const folder = base.slice(0, base.lastIndexOf('/') + 1);
  const parts: string[] = [];
  for (const part of `${folder.slice(origin.length)}${uri}`.split('/')) {
    if (part === '..') parts.pop();
    else if (part !== '.') parts.push(part);
  }
  return `${origin}${parts.join('/')}`;
}

/** `Content-Range: bytes <first>-<last>/<size>` → its numbers. */
export function contentRange(header: string | undefined): { first: number; last: number; size: number } | undefined {
  const m = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(header ?? '');
  return m ? { first: Number(m[1]), last: Number(m[2]), size: Number(m[3]) } : undefined;
}
