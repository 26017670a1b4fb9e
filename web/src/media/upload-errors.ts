// How a failed tus request reads to a person, and whether trying again can help (no browser needed).

/** The error tus-js-client reports: the server's answer when there was one, null after a cut. */
export type TusError = Error & { originalResponse?: { getStatus(): number; getBody(): string } | null };

/** 4xx answers are final (wrong type, too large, over quota, not a video); cuts, 5xx and lock conflicts are not. */
export function isRetryable(err: TusError): boolean {
  const status = err.originalResponse?.getStatus() ?? 0;
  return status === 0 || status >= 500 || status === 409 || status === 423;
}

/** The message of a failed tus request: the body of the server's answer when it has one. */
export function uploadErrorMessage(err: TusError): string {
  const res = err.originalResponse;
  if (!res) return 'The upload was cut and could not be resumed: check your connection and press “Resume upload”.';
  const body = res.getBody()?.trim() ?? '';
  let text = body;
  try {
    const parsed = JSON.parse(body) as { error?: { message?: string }; message?: string };
    text = parsed.error?.message ?? parsed.message ?? body;
  } catch {
    // a plain-text answer (tus servers write their reason as text)
  }
  return text ? `${text} (HTTP ${res.getStatus()})` : `The upload was refused (HTTP ${res.getStatus()}).`;
}

