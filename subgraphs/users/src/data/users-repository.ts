import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import { conflict, ROLES, type FieldError, type Role } from '@dream/common';
import { isUniqueViolation, mapDbError } from '@dream/common/db';

/** Row shape of the `users` table (see migrations.ts). */
export interface UsersTable {
  id: string;
  username: string;
  email: string;
  password_hash: string;
  /** Comma-separated, e.g. "STUDENT,OWNER". */
  roles: string;
  /** ISO-8601 UTC. */
  created_at: string;
}

export interface UsersDb {
  users: UsersTable;
}

/** A user as the rest of the service sees it. */
export interface UserRecord {
  id: string;
  username: string;
  email: string;
  passwordHash: string;
  roles: Role[];
  createdAt: string;
}

export interface NewUser {
  username: string;
  email: string;
  passwordHash: string;
  roles: Role[];
}

/**
 * Oracle refuses more than 1000 expressions in an IN list; callers (the dataloader) keep batches
 * at or below this so a batch stays one query.
 */
export const MAX_IDS_PER_QUERY = 1000;

const encodeRoles = (roles: Role[]) => ROLES.filter((r) => roles.includes(r)).join(',');
const decodeRoles = (s: string): Role[] => s.split(',').filter((r): r is Role => (ROLES as readonly string[]).includes(r));

function toRecord(row: UsersTable): UserRecord {
  return {
    id: row.id,
    username: row.username,
    email: row.email,
    passwordHash: row.password_hash,
    roles: decodeRoles(row.roles),
    createdAt: row.created_at,
  };
}

/**
 * All SQL of the users service. Queries are built by `queries` (so a test can compile each one for
 * Oracle without a server) and run by the methods below. No `returning` and no `limit`: the Oracle
 * adapter supports neither, and lookups by unique keys do not need a limit.
 */
export class UsersRepository {
  constructor(private readonly db: Kysely<UsersDb>) {}

  readonly queries = {
    insert: (row: UsersTable) => this.db.insertInto('users').values(row),
    byId: (id: string) => this.db.selectFrom('users').selectAll().where('id', '=', id),
    byIds: (ids: readonly string[]) => this.db.selectFrom('users').selectAll().where('id', 'in', [...ids]),
    byUsername: (username: string) => this.db.selectFrom('users').selectAll().where('username', '=', username),
    /** Which of a signup's unique fields already exist (to explain a CONFLICT). */
    taken: (username: string, email: string) =>
      this.db
        .selectFrom('users')
        .select(['username', 'email'])
        .where((eb) => eb.or([eb('username', '=', username), eb('email', '=', email)])),
  };

  /** Inserts a user; CONFLICT with a field message for each of username/email already taken. */
  async createUser(input: NewUser): Promise<UserRecord> {
    const row: UsersTable = {
      id: randomUUID(),
      username: input.username,
      email: input.email,
      password_hash: input.passwordHash,
      roles: encodeRoles(input.roles),
      created_at: new Date().toISOString(),
    };
    try {
      await this.queries.insert(row).execute();
    } catch (e) {
      if (isUniqueViolation(e)) throw await this.conflictFor(input, e);
      mapDbError(e);
    }
    // We generated every column ourselves, so no read-back is needed (and Oracle has no RETURNING here).
    return toRecord(row);
  }

  async findById(id: string): Promise<UserRecord | undefined> {
    const row = await this.run(() => this.queries.byId(id).executeTakeFirst());
    return row && toRecord(row);
  }

  async findByUsername(username: string): Promise<UserRecord | undefined> {
    const row = await this.run(() => this.queries.byUsername(username).executeTakeFirst());
    return row && toRecord(row);
  }

  /** Users for a batch of ids in ONE query (order not guaranteed; missing ids are simply absent). */
  async findByIds(ids: readonly string[]): Promise<UserRecord[]> {
    if (ids.length === 0) return [];
    if (ids.length > MAX_IDS_PER_QUERY) throw new Error(`findByIds takes at most ${MAX_IDS_PER_QUERY} ids`);
    const rows = await this.run(() => this.queries.byIds(ids).execute());
    return rows.map(toRecord);
  }

  private async run<T>(q: () => Promise<T>): Promise<T> {
    try {
      return await q();
    } catch (e) {
      return mapDbError(e);
    }
  }

  /** Names the taken field(s); asks the database rather than parsing driver messages, which differ. */
  private async conflictFor(input: NewUser, original: unknown) {
    let fields: FieldError[] = [];
    try {
      const rows = await this.queries.taken(input.username, input.email).execute();
      if (rows.some((r) => r.username === input.username)) {
        fields.push({ field: 'username', message: `The username "${input.username}" is already taken.` });
      }
      if (rows.some((r) => r.email === input.email)) {
        fields.push({ field: 'email', message: 'An account with this email already exists.' });
      }
    } catch {
      fields = [];
    }
    if (fields.length === 0) {
      // The other row vanished between the two statements; fall back to the index named in the error.
      const msg = String((original as Error)?.message ?? '').toLowerCase();
      fields.push(
        msg.includes('email')
          ? { field: 'email', message: 'An account with this email already exists.' }
          : { field: 'username', message: `The username "${input.username}" is already taken.` },
      );
    }
    return conflict(fields.map((f) => f.message).join(' '), fields);
  }
}
