import { sql, type Kysely, type Migration } from 'kysely';
import type { SqlDialect } from '@dream/common/db';

/**
 * The courses schema for SQLite and Oracle. Types are chosen per dialect only where they must
 * differ: `info` can be 5000 characters, more than Oracle's VARCHAR2 limit, so it is a CLOB there.
 * Ids are application-generated UUIDs (Oracle has no `returning`, so we insert then select by id).
 */
export function coursesMigrations(dialect: SqlDialect): Record<string, Migration> {
  const longText = dialect === 'oracle' ? 'clob' : 'text';
  return {
    '001_courses': {
      async up(db: Kysely<unknown>) {
        await db.schema
          .createTable('courses')
          .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
          .addColumn('owner_id', 'varchar(64)', (c) => c.notNull())
          .addColumn('name', 'varchar(200)', (c) => c.notNull())
          .addColumn('info', sql.raw(longText))
          .addColumn('category', 'varchar(64)', (c) => c.notNull())
          .addColumn('price', 'numeric(12, 2)', (c) => c.notNull())
          .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
          .addColumn('updated_at', 'varchar(32)', (c) => c.notNull())
          .addColumn('deleted_at', 'varchar(32)')
          .execute();
        await db.schema.createIndex('courses_category_created_idx').on('courses').columns(['category', 'created_at']).execute();
        // Category filters compare lower(category): an expression index serves them in both dialects.
        await db.schema
          .createIndex('courses_category_lower_idx')
          .on('courses')
          .expression(sql`lower(${sql.ref('category')}), ${sql.ref('created_at')}`)
          .execute();
        await db.schema.createIndex('courses_owner_idx').on('courses').columns(['owner_id', 'created_at']).execute();
        await db.schema.createIndex('courses_created_idx').on('courses').columns(['created_at', 'id']).execute();

        await db.schema
          .createTable('enrollments')
          .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
          .addColumn('user_id', 'varchar(64)', (c) => c.notNull())
          .addColumn('course_id', 'varchar(36)', (c) => c.notNull().references('courses.id'))
          .addColumn('source', 'varchar(16)', (c) => c.notNull().check(sql`${sql.ref('source')} in ('purchase', 'lobby')`))
          .addColumn('price_paid', 'numeric(12, 2)', (c) => c.notNull())
          .addColumn('idempotency_key', 'varchar(128)')
          .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
          .addUniqueConstraint('enrollments_user_course_uq', ['user_id', 'course_id'])
          .addUniqueConstraint('enrollments_idem_uq', ['idempotency_key'])
          .execute();
        await db.schema.createIndex('enrollments_course_idx').on('enrollments').column('course_id').execute();

        await db.schema
          .createTable('category_follows')
          .addColumn('user_id', 'varchar(64)', (c) => c.notNull())
          .addColumn('category', 'varchar(64)', (c) => c.notNull())
          .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
          .addPrimaryKeyConstraint('category_follows_pk', ['user_id', 'category'])
          .execute();
        await db.schema.createIndex('category_follows_category_idx').on('category_follows').column('category').execute();
      },
      async down(db: Kysely<unknown>) {
        await db.schema.dropTable('category_follows').execute();
        await db.schema.dropTable('enrollments').execute();
        await db.schema.dropTable('courses').execute();
      },
    },
    '002_cache_outbox': {
      async up(db: Kysely<unknown>) {
        await db.schema
          .createTable('cache_outbox')
          .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
          .addColumn('course_id', 'varchar(36)', (c) => c.notNull())
          .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
          .execute();
        await db.schema.createIndex('cache_outbox_created_idx').on('cache_outbox').column('created_at').execute();
      },
      async down(db: Kysely<unknown>) {
        await db.schema.dropTable('cache_outbox').execute();
      },
    },
  };
}
