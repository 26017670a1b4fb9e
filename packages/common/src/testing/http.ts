/** GET (or any request) returning the status and the body parsed as JSON when it is JSON, else the text (e.g. /metrics). */
export async function fetchBody(url: string, init: RequestInit = {}): Promise<{ status: number; body: any }> {
  const res = await fetch(url, { signal: AbortSignal.timeout(10000), ...init });
  const text = await res.text();
  try {
    return { status: res.status, body: JSON.parse(text) };
  } catch {
    return { status: res.status, body: text };
  }
}
