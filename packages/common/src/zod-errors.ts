import type { z } from 'zod';
import { AppError, type FieldError } from './errors';

export interface ZodBadInputOptions {
  /** The field named when a problem is with the whole value rather than one of its fields ('body', 'input'). */
  root: string;
  /** The 400's message from the fields at fault (each API words its summary as its spec says). */
  summary: (fields: FieldError[]) => string;
  /** Report a problem inside a list or object under its top-level field (a form names `roles`, not `roles.0`). */
  topLevel?: boolean;
}

/** One FieldError per field, the first problem zod found for it, in input order. */
export function zodFieldErrors(error: z.ZodError, opts: Pick<ZodBadInputOptions, 'root' | 'topLevel'>): FieldError[] {
  const byField = new Map<string, string>();
  for (const issue of error.issues) {
    const path = opts.topLevel ? issue.path.slice(0, 1) : issue.path;
    const field = path.length ? path.map(String).join('.') : opts.root;
    if (!byField.has(field)) byField.set(field, issue.message);
  }
  return [...byField].map(([field, message]) => ({ field, message }));
}

/** The one mapping of a zod failure to the API's error: BAD_USER_INPUT (400) with `fields` naming each bad field. */
export function zodBadInput(error: z.ZodError, opts: ZodBadInputOptions): AppError {
  const fields = zodFieldErrors(error, opts);
  return new AppError('BAD_USER_INPUT', opts.summary(fields), { fields });
}

/** Parses `input` with `schema`, or throws zodBadInput's error. */
export function parseInput<S extends z.ZodType>(schema: S, input: unknown, opts: ZodBadInputOptions): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  throw zodBadInput(result.error, opts);
}
