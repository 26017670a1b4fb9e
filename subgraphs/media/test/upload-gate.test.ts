import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openMediaDatabase, type MediaDatabase } from '../src/data/database';
import { LessonsRepository } from '../src/data/lessons-repository';
import { UploadGate } from '../src/lessons/upload-gate';
import { signUploadTicket } from '../src/upload-ticket';

const secret = 'upload-gate-test-secret-0123456789abcdef';
let dir: string;
let database: MediaDatabase;
let lessons: LessonsRepository;
let gate: UploadGate;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'media-gate-'));
  database = await openMediaDatabase(`sqlite:${join(dir, 'media.db')}`);
  lessons = new LessonsRepository(database.db, database.dialect);
  gate = new UploadGate({ lessons, signingSecret: secret, ownerQuotaBytes: 1000 });
});
afterAll(async () => {
  await database.close();
  rmSync(dir, { recursive: true, force: true });
});

async function ticketFor(ownerId: string, maxBytes = 800, expiresIn = 60) {
  const lesson = await lessons.create({ courseId: `c-${ownerId}`, ownerId, title: 'L' });
  const expiresAt = Math.floor(Date.now() / 1000) + expiresIn;
  const issued = await lessons.issueUpload(lesson, maxBytes, new Date(expiresAt * 1000).toISOString());
  const ticket = { uploadId: issued.uploadId, lessonId: lesson.id, assetId: issued.assetId, ownerId, maxBytes, expiresAt };
  return { ticket, token: signUploadTicket(ticket, secret) };
}

const code = (p: Promise<unknown>) => p.then(() => 'accepted', (e: { code?: string; message: string }) => `${e.code}: ${e.message}`);

test('a ticket starts one upload; the same upload continues with it, another does not', async () => {
  const { ticket, token } = await ticketFor('o1');
  expect(await gate.startUpload(token, 500)).toEqual(ticket);
  expect(await code(gate.startUpload(token, 500))).toMatch(/^CONFLICT: This upload ticket was already used/);
  expect(await gate.continueUpload(token, ticket.uploadId)).toEqual(ticket);
  expect(await code(gate.continueUpload(token, 'another-upload'))).toMatch(/^UNAUTHENTICATED/);
});

test('over the ticket size: 413; over the owner quota: 403 naming the quota', async () => {
  const big = await ticketFor('o2');
  expect(await code(gate.startUpload(big.token, 801))).toMatch(/^PAYLOAD_TOO_LARGE: .*800 bytes/);
  const first = await ticketFor('o3');
  await gate.startUpload(first.token, 700);
  await lessons.uploadReceived(first.ticket.lessonId, first.ticket.assetId, { key: 'k', sizeBytes: 700 });
  const second = await ticketFor('o3');
  expect(await code(gate.startUpload(second.token, 400))).toMatch(/^FORBIDDEN: Storage quota exceeded: .*MEDIA_OWNER_QUOTA_BYTES/);
  expect(await gate.startUpload(second.token, 300)).toMatchObject({ ownerId: 'o3' });
});

test('a replaced or deleted lesson upload is refused; an expired ticket starts nothing but may resume', async () => {
  const old = await ticketFor('o4');
  await lessons.issueUpload((await lessons.findById(old.ticket.lessonId))!, 800, new Date(Date.now() + 60_000).toISOString());
  expect(await code(gate.startUpload(old.token, 10))).toMatch(/^NOT_FOUND/);
  const expired = await ticketFor('o5', 800, -1);
  expect(await code(gate.startUpload(expired.token, 10))).toMatch(/^UNAUTHENTICATED: Upload ticket expired/);
  expect(await gate.continueUpload(expired.token, expired.ticket.uploadId)).toMatchObject({ ownerId: 'o5' });
  const gone = await ticketFor('o6');
  await lessons.delete(gone.ticket.lessonId);
  expect(await code(gate.startUpload(gone.token, 10))).toMatch(/^NOT_FOUND/);
});
