import { sql, type Kysely, type Migration } from 'kysely';
import type { SqlDialect } from '@dream/common/db';

/**
 * The media schema for SQLite and Oracle. Ids are application-generated UUIDs (Oracle has no
 * `returning`, so rows are inserted then read by id). Seconds are numeric(12, 3): millisecond precision
 * in both dialects without a floating type whose name differs between them.
 */
export function mediaMigrations(_dialect: SqlDialect): Record<string, Migration> {
  return {
    '001_media': {
      async up(db: Kysely<unknown>) {
        await db.schema
          .createTable('lessons')
          .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
          .addColumn('course_id', 'varchar(128)', (c) => c.notNull())
          .addColumn('owner_id', 'varchar(64)', (c) => c.notNull())
          .addColumn('title', 'varchar(200)', (c) => c.notNull())
          .addColumn('position', 'integer', (c) => c.notNull())
          .addColumn('status', 'varchar(16)', (c) =>
            c.notNull().check(sql`${sql.ref('status')} in ('DRAFT', 'UPLOADING', 'PROCESSING', 'READY', 'FAILED')`),
          )
          .addColumn('failure_reason', 'varchar(500)')
          .addColumn('duration_seconds', 'numeric(12, 3)')
          .addColumn('processing_progress', 'integer')
          .addColumn('current_asset_id', 'varchar(36)')
          .addColumn('pending_asset_id', 'varchar(36)')
          .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
          .addColumn('updated_at', 'varchar(32)', (c) => c.notNull())
          // Dense positions are kept by shifting; the constraint turns a race between two writers into a retry.
          .addUniqueConstraint('lessons_course_position_uq', ['course_id', 'position'])
          .execute();
        await db.schema.createIndex('lessons_status_idx').on('lessons').columns(['status', 'updated_at']).execute();
        await db.schema.createIndex('lessons_owner_idx').on('lessons').column('owner_id').execute();

        await db.schema
          .createTable('assets')
          .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
          .addColumn('lesson_id', 'varchar(36)', (c) => c.notNull())
          .addColumn('status', 'varchar(16)', (c) => c.notNull().check(sql`${sql.ref('status')} in ('UPLOADING', 'PROCESSING', 'READY', 'FAILED')`))
          .addColumn('source_key', 'varchar(300)')
          .addColumn('size_bytes', 'numeric(18, 0)')
          .addColumn('duration_seconds', 'numeric(12, 3)')
          .addColumn('failure_reason', 'varchar(500)')
          .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
          .addColumn('updated_at', 'varchar(32)', (c) => c.notNull())
          .execute();
        await db.schema.createIndex('assets_lesson_idx').on('assets').column('lesson_id').execute();

        await db.schema
          .createTable('uploads')
          .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
          .addColumn('lesson_id', 'varchar(36)', (c) => c.notNull())
          .addColumn('asset_id', 'varchar(36)', (c) => c.notNull())
          .addColumn('owner_id', 'varchar(64)', (c) => c.notNull())
          .addColumn('max_bytes', 'numeric(18, 0)', (c) => c.notNull())
          .addColumn('expires_at', 'varchar(32)', (c) => c.notNull())
          .addColumn('used_at', 'varchar(32)')
          .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
          .execute();
        await db.schema.createIndex('uploads_lesson_idx').on('uploads').column('lesson_id').execute();

        await db.schema
          .createTable('progress')
          .addColumn('user_id', 'varchar(64)', (c) => c.notNull())
          .addColumn('lesson_id', 'varchar(36)', (c) => c.notNull())
          .addColumn('course_id', 'varchar(128)', (c) => c.notNull())
          .addColumn('position_seconds', 'numeric(12, 3)', (c) => c.notNull())
          .addColumn('watched_seconds', 'numeric(12, 3)', (c) => c.notNull())
          .addColumn('completed', 'integer', (c) => c.notNull())
          .addColumn('completed_at', 'varchar(32)')
          .addColumn('reported_at', 'varchar(32)', (c) => c.notNull())
          .addPrimaryKeyConstraint('progress_pk', ['user_id', 'lesson_id'])
          .execute();
        await db.schema.createIndex('progress_user_course_idx').on('progress').columns(['user_id', 'course_id']).execute();
        await db.schema.createIndex('progress_lesson_idx').on('progress').column('lesson_id').execute();

        await db.schema
          .createTable('course_completions')
          .addColumn('user_id', 'varchar(64)', (c) => c.notNull())
          .addColumn('course_id', 'varchar(128)', (c) => c.notNull())
          .addColumn('completed_at', 'varchar(32)', (c) => c.notNull())
          .addPrimaryKeyConstraint('course_completions_pk', ['user_id', 'course_id'])
          .execute();
      },
      async down(db: Kysely<unknown>) {
        for (const t of ['course_completions', 'progress', 'uploads', 'assets', 'lessons']) await db.schema.dropTable(t).execute();
      },
    },
  };
}
