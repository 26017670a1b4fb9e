import { AppError, forbidden, notFound, unauthenticated } from '@dream/common';
import type { LessonsRepository } from '../data/lessons-repository';
import { verifyUploadTicket, type UploadTicket } from '../upload-ticket';

export interface UploadGateOptions {
  lessons: LessonsRepository;
  signingSecret: string;
  /** MEDIA_OWNER_QUOTA_BYTES: sources a course owner may store. */
  ownerQuotaBytes: number;
}

const gib = (bytes: number) => `${(bytes / 1024 ** 3).toFixed(2)} GiB`;

/**
 * The upload handler's questions to the core, answered with the status the tus answer carries:
 * 401 for a bad ticket, 413 over the ticket's size, 403 over the owner's quota (named), 404 for a lesson
 * deleted or re-ticketed since, 409 for a ticket used before.
 */
export class UploadGate {
  constructor(private readonly opts: UploadGateOptions) {}

  /** tus creation (POST): checks the ticket and the declared length, then spends the ticket (single use). */
  async startUpload(token: string | undefined, uploadLength: number): Promise<UploadTicket> {
    const ticket = verifyUploadTicket(token, this.opts.signingSecret);
    if (uploadLength > ticket.maxBytes) throw new AppError('PAYLOAD_TOO_LARGE', `The upload is larger than the ${ticket.maxBytes} bytes allowed (MEDIA_MAX_UPLOAD_BYTES).`);
    await this.stillPending(ticket);
    const stored = await this.opts.lessons.storedBytesOf(ticket.ownerId);
    if (stored + uploadLength > this.opts.ownerQuotaBytes) {
      throw forbidden(`Storage quota exceeded: ${gib(stored)} of the ${gib(this.opts.ownerQuotaBytes)} per-owner quota (MEDIA_OWNER_QUOTA_BYTES) is used, and this upload needs ${gib(uploadLength)}.`);
    }
    if (!(await this.opts.lessons.useUpload(ticket.uploadId))) throw new AppError('CONFLICT', 'This upload ticket was already used: ask for a new one with requestLessonUpload.');
    return ticket;
  }

  /** Later requests of the same upload (HEAD, PATCH): the ticket must be the one that created `uploadId`'s upload. */
  async continueUpload(token: string | undefined, ticketUploadId: string): Promise<UploadTicket> {
    const ticket = verifyUploadTicket(token, this.opts.signingSecret, { allowExpired: true });
    if (ticket.uploadId !== ticketUploadId) throw unauthenticated('This upload ticket is for another upload.');
    await this.stillPending(ticket);
    return ticket;
  }

  private async stillPending(ticket: UploadTicket): Promise<void> {
    const lesson = await this.opts.lessons.findById(ticket.lessonId);
    if (!lesson || lesson.pendingAssetId !== ticket.assetId) throw notFound('This upload is no longer expected: the lesson was deleted or a newer upload was requested.');
  }
}
