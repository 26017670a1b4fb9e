import { Upload } from 'tus-js-client';

export interface UploadTicket {
  uploadUrl: string;
  token: string;
  maxBytes: number;
}

export interface UploadCallbacks {
  onProgress(sent: number, total: number): void;
  onSuccess(): void;
  /** The reason in words (the media service's message when it gave one, e.g. 415 or 422); `canResume` after a cut or a server failure. */
  onError(message: string, canResume: boolean): void;
}

/** Chunks small enough to lose little on a cut, large enough to keep the request count low. */
const CHUNK_BYTES = 4 * 1024 * 1024;
/** After a cut, tus-js-client asks the server for the offset (HEAD) and goes on from there. */
const RETRY_DELAYS_MS = [0, 1000, 3000, 5000, 10000, 20000, 30000];

type TusError = Error & { originalResponse?: { getStatus(): number; getBody(): string } | null };

/** 4xx answers are final (wrong type, too large, over quota, not a video); cuts, 5xx and lock conflicts are not. */
function isRetryable(err: TusError): boolean {
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

/**
 * A tus 1.0 upload of `file` with the ticket's token on every request (creation, PATCH, HEAD). The
 * upload URL is remembered in localStorage under the file's fingerprint, so `start()` after an error
 * resumes at the server's offset instead of sending the file again.
 */
export function startUpload(file: File, ticket: UploadTicket, cb: UploadCallbacks): Upload {
  const upload = new Upload(file, {
    endpoint: ticket.uploadUrl,
    headers: { Authorization: `Bearer ${ticket.token}` },
    chunkSize: CHUNK_BYTES,
    retryDelays: RETRY_DELAYS_MS,
    storeFingerprintForResuming: true,
    removeFingerprintOnSuccess: true,
    metadata: { filename: file.name, filetype: file.type },
    onProgress: cb.onProgress,
    onSuccess: () => cb.onSuccess(),
    onError: (err) => cb.onError(uploadErrorMessage(err as TusError), isRetryable(err as TusError)),
    onShouldRetry: (err) => isRetryable(err as TusError),
  });
  upload.start();
  return upload;
}
