import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import { mapDbError, type SqlDialect } from '@dream/common/db';
import { toCourse, type Course } from '../domain';
import { nowIso } from './clock';
import { courseQueries, type CourseKey } from './queries';
import type { CoursesDb } from './types';

export interface NewCourse {
  ownerId: string;
  name: string;
  info: string;
  category: string;
  price: number;
}

export type CoursePatch = Partial<Pick<NewCourse, 'name' | 'info' | 'category' | 'price'>>;

export interface ListOptions {
  categoryKey?: string;
  ownerId?: string;
  nameContains?: string;
  after?: CourseKey;
  limit: number;
}

/** Courses table access; soft-deleted rows are invisible to every read. */
export class CoursesRepository {
  constructor(
    private readonly db: Kysely<CoursesDb>,
    private readonly dialect: SqlDialect,
  ) {}

  private q(db: Kysely<CoursesDb> = this.db) {
    return courseQueries(db, this.dialect);
  }

  /**
   * Runs a course write; with `outboxId` the cache invalidation for `courseId` is recorded in the same
   * transaction, so it exists exactly when the change does (see cache-outbox.ts).
   */
  private write<T>(courseId: string, outboxId: string | undefined, fn: (db: Kysely<CoursesDb>) => Promise<T>): Promise<T> {
    if (!outboxId) return fn(this.db);
    return this.db.transaction().execute(async (trx) => {
      const result = await fn(trx);
      await this.q(trx).insertOutbox({ id: outboxId, course_id: courseId, created_at: nowIso() }).execute();
      return result;
    });
  }

  async create(input: NewCourse, outboxId?: string): Promise<Course> {
    const at = nowIso();
    const row = {
      id: randomUUID(),
      owner_id: input.ownerId,
      name: input.name,
      info: input.info,
      category: input.category,
      price: input.price,
      created_at: at,
      updated_at: at,
      deleted_at: null,
    };
    try {
      // No `returning` on Oracle: insert, then read the row back.
      const saved = await this.write(row.id, outboxId, async (db) => {
        await this.q(db).insertCourse(row).execute();
        return this.q(db).courseById(row.id).executeTakeFirstOrThrow();
      });
      return toCourse(saved);
    } catch (e) {
      mapDbError(e);
    }
  }

  async findById(id: string): Promise<Course | undefined> {
    try {
      const row = await this.q().courseById(id).executeTakeFirst();
      return row && toCourse(row);
    } catch (e) {
      mapDbError(e);
    }
  }

  /** One statement for any number of ids (the dataloader caps a batch below Oracle's 1000-item IN limit). */
  async findByIds(ids: readonly string[]): Promise<Course[]> {
    if (ids.length === 0) return [];
    try {
      return (await this.q().coursesByIds(ids).execute()).map(toCourse);
    } catch (e) {
      mapDbError(e);
    }
  }

  /** Live courses of each owner, newest first; one statement. */
  async findByOwnerIds(ownerIds: readonly string[]): Promise<Map<string, Course[]>> {
    const byOwner = new Map<string, Course[]>(ownerIds.map((id) => [id, []]));
    if (ownerIds.length === 0) return byOwner;
    try {
      for (const row of await this.q().coursesByOwnerIds(ownerIds).execute()) byOwner.get(row.owner_id)?.push(toCourse(row));
      return byOwner;
    } catch (e) {
      mapDbError(e);
    }
  }

  async list(opts: ListOptions): Promise<Course[]> {
    try {
      return (await this.q().listCourses(opts).execute()).map(toCourse);
    } catch (e) {
      mapDbError(e);
    }
  }

  async categories(): Promise<string[]> {
    try {
      return (await this.q().categories().execute()).map((r) => String(r.category));
    } catch (e) {
      mapDbError(e);
    }
  }

  /** The updated course, or undefined when it does not exist (or is deleted). */
  async update(id: string, patch: CoursePatch, outboxId?: string): Promise<Course | undefined> {
    try {
      const row = await this.write(id, outboxId, async (db) => {
        const res = await this.q(db).updateCourse(id, { ...patch, updated_at: nowIso() }).executeTakeFirst();
        return Number(res.numUpdatedRows) === 0 ? undefined : this.q(db).courseById(id).executeTakeFirst();
      });
      return row && toCourse(row);
    } catch (e) {
      mapDbError(e);
    }
  }

  /** True when a live course was deleted now. */
  async softDelete(id: string, outboxId?: string): Promise<boolean> {
    try {
      const res = await this.write(id, outboxId, (db) => this.q(db).softDeleteCourse(id, nowIso()).executeTakeFirst());
      return Number(res.numUpdatedRows) > 0;
    } catch (e) {
      mapDbError(e);
    }
  }
}
