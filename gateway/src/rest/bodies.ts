import { z } from 'zod';
import { badInput, parseInput, type Role } from '@dream/common';

/** "is required" for a missing field, "must be a <type>" for a wrong one: the message names the field. */
const text = (type = 'a string') =>
  z.string({ error: (iss) => (iss.input === undefined ? 'is required' : `must be ${type}`) });

const priceSchema = z.union([z.string(), z.number()], {
  error: (iss) => (iss.input === undefined ? 'is required' : 'must be a number or a numeric string'),
});

/** Unknown fields are refused (400 naming them), so a typo or a smuggled field (`isAdmin`) never passes silently. */
const object = <S extends z.ZodRawShape>(shape: S) =>
  z.strictObject(shape, {
    error: (iss) =>
      iss.code === 'unrecognized_keys' ? `the request body has unknown field(s): ${iss.keys.join(', ')}` : 'the request body must be a JSON object',
  });

export const signupBody = object({
  username: text(),
  password: text(),
  email: text(),
  roles: z.union([z.string(), z.array(z.string())], {
    error: (iss) => (iss.input === undefined ? 'is required' : 'must be a string or an array of strings'),
  }),
});

export const loginBody = object({ username: text(), password: text() });

export const createCourseBody = object({
  courseName: text(),
  courseInfo: text().optional(),
  courseCathegory: text(),
  price: priceSchema,
});

export const lobbyBody = object({ cathegory: text(), userId: text() });

export const buyBody = object({ userId: text(), courseId: text().optional() });

/** Parses a body with `schema`; a mismatch is a 400 naming every bad field (`field: problem`). */
export function parseBody<S extends z.ZodType>(schema: S, body: unknown): z.infer<S> {
  return parseInput(schema, body, {
    root: 'body',
    summary: (fields) => fields.map((f) => (f.field === 'body' ? f.message : `${f.field} ${f.message}`)).join('; ') + '.',
  });
}

const ROLE_NAMES: readonly Role[] = ['STUDENT', 'OWNER'];

/** The spec's roles: "STUDENT", "OWNER", "STUDENT/OWNER" (both), or an array of them. */
export function parseRoles(roles: string | string[]): Role[] {
  const parts = (Array.isArray(roles) ? roles : roles.split('/')).map((r) => r.trim().toUpperCase());
  const out = [...new Set(parts)];
  if (!out.length || !out.every((r): r is Role => (ROLE_NAMES as readonly string[]).includes(r))) {
    throw badInput('roles must be "STUDENT", "OWNER", "STUDENT/OWNER" or an array of them.', [
      { field: 'roles', message: 'must be "STUDENT", "OWNER", "STUDENT/OWNER" or an array of them' },
    ]);
  }
  return out as Role[];
}
