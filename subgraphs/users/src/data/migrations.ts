import type { Kysely, Migration } from 'kysely';

/**
 * Schema of the users service. Written with portable types only, so the same migrations run on
 * SQLite and Oracle: bounded varchar (VARCHAR2 on Oracle), timestamps as ISO-8601 strings (they sort
 * as text and need no driver-specific date mapping), roles as a comma-separated list.
 */
export const migrations: Record<string, Migration> = {
  '001_create_users': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('users')
        .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
        .addColumn('username', 'varchar(32)', (c) => c.notNull())
        .addColumn('email', 'varchar(254)', (c) => c.notNull())
        .addColumn('password_hash', 'varchar(255)', (c) => c.notNull())
        .addColumn('roles', 'varchar(32)', (c) => c.notNull())
        .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
        .execute();
      // Named indexes: a unique violation names the index, and the repository says which field is taken.
      await db.schema.createIndex('users_username_uq').unique().on('users').column('username').execute();
      await db.schema.createIndex('users_email_uq').unique().on('users').column('email').execute();
    },
    async down(db: Kysely<unknown>) {
      await db.schema.dropTable('users').execute();
    },
  },
};
