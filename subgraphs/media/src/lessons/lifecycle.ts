import { randomUUID } from 'node:crypto';
import type { Logger } from '@dream/common';
import type { LessonsRepository } from '../data/lessons-repository';
import type { CourseAccessSource } from '../grpc/course-access';
import type { MediaEvents } from './events';
import type { Lesson } from './lesson';

/** A transcoding job: what the queue of the transcoding module needs to (re)build one asset. */
export interface TranscodeJob {
  lessonId: string;
  assetId: string;
  /** Storage key of the uploaded source. */
  sourceKey: string;
  /** The request that asked for it (upload or retranscode), for the job's logs. */
  requestId?: string;
  /** A retranscode of the video the lesson plays: its failure is told as such (the lesson keeps playing). */
  retranscode?: boolean;
}

/** The transcoding module's queue as the core uses it. */
export interface TranscodeJobs {
  enqueue(job: TranscodeJob): Promise<void>;
}

/** An asset's stored files; the storage module implements it. */
export interface AssetFiles {
  /** Removes every stored file of an asset (source and outputs). */
  removeAsset(lessonId: string, assetId: string): Promise<void>;
  /** Copies the source of `fromAssetId` to be the source of `toAssetId`; answers the new source's key. */
  copySource(lessonId: string, fromAssetId: string, toAssetId: string): Promise<string>;
}

export interface LessonLifecycleDeps {
  lessons: LessonsRepository;
  events: MediaEvents;
  access: CourseAccessSource;
  files: AssetFiles;
  /** Absent in a process that cannot queue jobs (retranscode then answers SERVICE_UNAVAILABLE). */
  jobs?: TranscodeJobs;
  logger: Logger;
}

/**
 * A lesson's way from upload to READY, as the upload handler and the transcoding worker report it. Each
 * step is applied only while the asset is still the lesson's pending one (a late report of a replaced
 * upload changes nothing), then announced on `lesson.updated`; the first READY also notifies the owner
 * and the course's students. These are the callbacks handed to the upload and transcoding modules.
 */
export class LessonLifecycle {
  constructor(private readonly deps: LessonLifecycleDeps) {}

  /** The upload finished and was accepted: queue its transcoding. */
  async uploadReceived(lessonId: string, assetId: string, source: { key: string; sizeBytes: number }, requestId?: string): Promise<Lesson | undefined> {
    const lesson = await this.deps.lessons.uploadReceived(lessonId, assetId, source);
    if (!lesson) return undefined;
    await this.announce(lesson);
    await this.queue({ lessonId, assetId, sourceKey: source.key, requestId });
    return lesson;
  }

  canQueue(): boolean {
    return this.deps.jobs !== undefined;
  }

  /** Queues a transcoding job; a lesson left PROCESSING without one is re-queued by the reconciler at start. */
  async queue(job: TranscodeJob): Promise<void> {
    if (!this.deps.jobs) throw new Error('no transcoding queue in this process');
    await this.deps.jobs.enqueue(job);
  }

  /**
   * Transcodes the lesson's current (playing) asset again, as a new asset with a copy of its source: the
   * output is written where nothing is served, the lesson switches to it only when it is READY (the old
   * asset's files go then), and a failure leaves the lesson READY on the old one with the reason shown.
   * Undefined when the lesson changed meanwhile (deleted, or it plays another asset now).
   */
  async retranscodeCurrent(lesson: Lesson, source: { assetId: string; sizeBytes: number }, requestId?: string): Promise<Lesson | undefined> {
    const assetId = randomUUID();
    const key = await this.deps.files.copySource(lesson.id, source.assetId, assetId);
    let restarted: Lesson | undefined;
    try {
      restarted = await this.deps.lessons.retranscodeInto(lesson.id, source.assetId, assetId, { key, sizeBytes: source.sizeBytes });
    } finally {
      if (!restarted) await this.removeFiles(lesson.id, assetId);
    }
    if (!restarted) return undefined;
    await this.queue({ lessonId: lesson.id, assetId, sourceKey: key, retranscode: true, requestId });
    await this.announce(restarted);
    return restarted;
  }

  async progress(lessonId: string, assetId: string, percent: number): Promise<void> {
    const lesson = await this.deps.lessons.setProcessingProgress(lessonId, assetId, percent);
    if (lesson) await this.announce(lesson);
  }

  async ready(lessonId: string, assetId: string, output: { durationSeconds: number }): Promise<Lesson | undefined> {
    const change = await this.deps.lessons.assetReady(lessonId, assetId, output.durationSeconds);
    if (!change) {
      // a late job: its lesson is gone or moved on to another asset, so nothing will ever serve (or
      // otherwise delete) what it wrote
      if ((await this.deps.lessons.findById(lessonId))?.currentAssetId !== assetId) await this.removeFiles(lessonId, assetId);
      return undefined;
    }
    await this.announce(change.lesson);
    if (change.replacedAssetId) await this.removeFiles(lessonId, change.replacedAssetId);
    if (change.becameReady) await this.notifyReady(change.lesson);
    return change.lesson;
  }

  /**
   * The upload or transcoding cannot succeed (e.g. "Not a playable video file"): its files go, unless
   * the asset is the one the lesson plays (a late report of a job that ran again after it was READY):
   * what is served is never removed by a failure.
   */
  async failed(lessonId: string, assetId: string, reason: string): Promise<Lesson | undefined> {
    const lesson = await this.deps.lessons.assetFailed(lessonId, assetId, reason);
    const playing = (lesson ?? (await this.deps.lessons.findById(lessonId)))?.currentAssetId === assetId;
    if (playing) this.deps.logger.warn({ lessonId, assetId, reason }, 'a transcode of the playing asset failed; its files are kept');
    else await this.removeFiles(lessonId, assetId);
    if (lesson) await this.announce(lesson);
    return lesson;
  }

  async announce(lesson: Lesson): Promise<void> {
    await this.deps.events.lessonUpdated({
      id: lesson.id,
      courseId: lesson.courseId,
      status: lesson.status,
      ...(lesson.processingProgress !== null ? { progress: lesson.processingProgress } : {}),
    });
  }

  async removeFiles(lessonId: string, assetId: string): Promise<void> {
    try {
      await this.deps.files.removeAsset(lessonId, assetId);
    } catch (err) {
      this.deps.logger.warn({ err: (err as Error).message, assetId }, 'could not remove the files of an asset');
    }
  }

  /** The owner and every student hear about a lesson that became playable; never fails the change. */
  private async notifyReady(lesson: Lesson): Promise<void> {
    let students: string[] = [];
    try {
      students = await this.deps.access.students(lesson.courseId);
    } catch (err) {
      this.deps.logger.warn({ err: (err as Error).message, lessonId: lesson.id }, 'could not list the students of the course; only its owner is notified');
    }
    const recipients = [...new Set([lesson.ownerId, ...students])];
    await Promise.all(
      recipients.map((userId) =>
        this.deps.events.notify({ userId, kind: 'lesson.ready', courseId: lesson.courseId, text: `Lesson "${lesson.title}" is ready to watch.` }),
      ),
    );
  }
}
