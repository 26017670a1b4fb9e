import { Upload } from 'tus-js-client';
import { isRetryable, uploadErrorMessage, type TusError } from './upload-errors';

export interface UploadTicket {
  uploadUrl: string;
  token: string;
  expiresAt: string;
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

/** Tickets of unfinished uploads by lesson and file, so the same file chosen again after a reload resumes. */
const TICKETS_KEY = 'dream-and-study.upload-tickets';
type StoredTickets = Record<string, UploadTicket>;

function readTickets(): StoredTickets {
  try {
    const all = JSON.parse(localStorage.getItem(TICKETS_KEY) ?? '{}') as StoredTickets;
    // a ticket only authorises an upload started before it expires: older ones are of no use
    return Object.fromEntries(Object.entries(all).filter(([, t]) => Date.parse(t.expiresAt) > Date.now()));
  } catch {
    return {};
  }
}

function storeTicket(key: string, ticket: (UploadTicket) | undefined) {
  const all = readTickets();
  if (ticket) all[key] = ticket;
  else delete all[key];
  localStorage.setItem(TICKETS_KEY, JSON.stringify(all));
}

/**
 * A tus 1.0 upload of `file` with the ticket's token on every request (creation, PATCH, HEAD). After a
 * cut, tus-js-client retries and resumes at the server's offset; `start()` again after the retries run
 * out does the same. The upload URL (tus-js-client's fingerprint storage) and the ticket are kept in
 * localStorage, so choosing the same file for the same lesson after a reload resumes too, with the
 * ticket that authorised it. Resolves undefined when no ticket could be had (`newTicket` shows why).
 */
export async function startUpload(
  file: File,
  lessonId: string,
  newTicket: () => Promise<(UploadTicket) | undefined>,
  cb: UploadCallbacks,
): Promise<Upload | undefined> {
  const key = `${lessonId}:${file.name}:${file.size}:${file.lastModified}`;
  const stored = readTickets()[key];
  const ticket = stored ?? (await newTicket());
  if (!ticket) return undefined;
  if (file.size > ticket.maxBytes) {
    cb.onError(`The file is ${mb(file.size)}; the largest upload allowed is ${mb(ticket.maxBytes)}.`, false);
    return undefined;
  }
  const upload = new Upload(file, {
    endpoint: ticket.uploadUrl,
    headers: { Authorization: `Bearer ${ticket.token}` },
    chunkSize: CHUNK_BYTES,
    retryDelays: RETRY_DELAYS_MS,
    storeFingerprintForResuming: true,
    removeFingerprintOnSuccess: true,
    metadata: { filename: file.name, filetype: file.type },
    onProgress: cb.onProgress,
    onSuccess: () => {
      storeTicket(key, undefined);
      cb.onSuccess();
    },
    onError: (err) => {
      const canResume = isRetryable(err as TusError);
      if (!canResume) storeTicket(key, undefined); // refused for good: the next try asks for a new ticket
      cb.onError(uploadErrorMessage(err as TusError), canResume);
    },
    onShouldRetry: (err) => isRetryable(err as TusError),
  });
  if (stored) {
    const previous = await upload.findPreviousUploads();
    if (previous[0]) upload.resumeFromPreviousUpload(previous[0]);
  }
  storeTicket(key, ticket);
  upload.start();
  return upload;
}

const mb = (bytes: number) => `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
