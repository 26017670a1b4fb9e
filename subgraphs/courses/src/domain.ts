import type { CourseRow } from './data/types';

/** A course as the API sees it. */
export interface Course {
  id: string;
  ownerId: string;
  name: string;
  info: string;
  category: string;
  price: number;
  createdAt: string;
  updatedAt: string;
}

export function toCourse(row: CourseRow): Course {
  return {
    id: row.id,
    ownerId: row.owner_id,
    name: row.name,
    info: row.info ?? '',
    category: row.category,
    price: Number(row.price),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

/** Opaque cursor: the course's place in the newest-first order (created_at, id). */
export function encodeCursor(c: Pick<Course, 'createdAt' | 'id'>): string {
  return Buffer.from(`${c.createdAt}|${c.id}`, 'utf8').toString('base64url');
}

/** undefined for anything that is not a cursor we issued. */
export function decodeCursor(cursor: string): { createdAt: string; id: string } | undefined {
  if (!/^[A-Za-z0-9_-]{1,200}$/.test(cursor)) return undefined;
  const raw = Buffer.from(cursor, 'base64url').toString('utf8');
  const sep = raw.indexOf('|');
  if (sep <= 0) return undefined;
  const createdAt = raw.slice(0, sep);
  const id = raw.slice(sep + 1);
  if (Number.isNaN(Date.parse(createdAt)) || !id) return undefined;
  return { createdAt, id };
}

/** Categories match case-insensitively; this is the comparison key. */
export const categoryKey = (category: string) => category.trim().toLowerCase();
