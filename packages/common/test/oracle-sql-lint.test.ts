/** The Oracle 23ai lint: each rule catches what it is for, and leaves valid Oracle SQL alone. */
import { CompiledQuery, Kysely, sql } from 'kysely';
import { acquireLockSql, compileOnly, releaseLockSql } from '../src/database';
import { lintOracleSql } from '../src/testing';

describe('lintOracleSql', () => {
  it.each([
    ['select * from "t" limit 10', /LIMIT/],
    ['insert into "t" ("a") values (:1) returning "id"', /RETURNING/],
    ['select * from "t" where "a" = ?', /bind \?/],
    ['select * from "t" where "a" = $1', /bind \$1/],
    ['select * from `t`', /backtick/],
    ['select * from "t" where "flag" = true', /boolean literal TRUE/],
    [`select * from "t" where "name" = ''`, /empty string literal/],
    ['create table "user" ("id" varchar(36))', /"user" is an Oracle reserved word/],
    ['create table "t" ("size" integer)', /"size" is an Oracle reserved word/],
    [`select "${'x'.repeat(129)}" from "t"`, /longer than 128 bytes/],
    ['create table "t" ("a" text)', /column type text/],
    ['create table "t" ("a" bigint)', /column type bigint/],
    ['create table "t" ("a" varchar)', /varchar without a length/],
    ['create table "t" ("a" varchar(5000))', /longer than 4000 bytes/],
    ['create or replace view if not exists "v" as select 1 from dual', /IF NOT EXISTS here/],
    ['alter table "t" add if not exists ("a" integer)', /IF NOT EXISTS here/],
    ['alter table "t" add column "a" integer', /ADD COLUMN/],
    ['drop table if not exists "t"', /IF NOT EXISTS here/],
    ['insert into "t" ("a") values (:1) on conflict do nothing', /ON CONFLICT/],
    ['insert or ignore into "t" ("a") values (:1)', /INSERT OR IGNORE/],
    ['select * from "t" as "x"', /AS before a table alias/],
    ['select * from "a" inner join "b" as "c" on "c"."id" = "a"."id"', /AS before a table alias/],
    ['select *, "a" from "t"', /SELECT \*, …/],
    ['select ifnull("a", 0) from "t"', /ifnull\(\)/],
    ['select * from "t" offset 5', /OFFSET without ROWS/],
    ['select * from "t";', /trailing semicolon/],
    [`select * from "t" where "id" in (${Array.from({ length: 1001 }, (_, i) => `:${i + 1}`).join(', ')})`, /IN list of 1001/],
  ])('%s', (text, problem) => {
    expect(lintOracleSql(text).join('\n')).toMatch(problem);
  });

  it.each([
    'select * from "users" where "id" in (:1, :2, :3)',
    'select "courses".* from "courses" where "deleted_at" is null order by "created_at" desc fetch first :1 rows only',
    'select * from "t" order by "a" offset :1 rows fetch first :2 rows only',
    'create table if not exists "kysely_migration" ("name" varchar(255) not null primary key, "timestamp" varchar(255) not null)',
    'create unique index if not exists "u" on "t" ("a")',
    'drop table if exists "t"',
    'alter table "t" add ("a" integer)',
    'create table "t" ("info" clob, "price" numeric(12, 2), "n" varchar(4000))',
    `select * from "t" where "a" = 'it''s' and "b" = ':1 limit ?'`,
    'select 1 from dual',
    `select * from "t" where "id" in (${Array.from({ length: 1000 }, (_, i) => `:${i + 1}`).join(', ')})`,
    'select * from "t" where "a" not in (select "b" from "u" where "c" in (:1, :2))',
  ])('accepts %s', (text) => {
    expect(lintOracleSql(text)).toEqual([]);
  });

  it('accepts the migration lock blocks (PL/SQL ends with ;, binds, => false)', () => {
    const db = compileOnly<unknown>('oracle') as Kysely<unknown>;
    for (const q of [acquireLockSql('kysely_migration_lock', 300), releaseLockSql('kysely_migration_lock')]) {
      const compiled: CompiledQuery = q.compile(db);
      expect(compiled.sql).toMatch(/end;$/);
      expect(lintOracleSql(compiled.sql)).toEqual([]);
    }
  });

  it('is not fooled by keywords inside strings or quoted identifiers', () => {
    expect(lintOracleSql(`select "limit_value" from "t" where "note" = 'limit 1 returning true'`)).toEqual([]);
    expect(lintOracleSql(sql`select ${'x'} from dual`.compile(compileOnly<unknown>('oracle') as Kysely<unknown>).sql)).toEqual([]);
  });
});
