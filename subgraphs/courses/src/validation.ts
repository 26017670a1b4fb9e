import { badInput, type FieldError } from '@dream/common';

export const PRICE_MAX = 1_000_000;
export const NAME_MAX = 200;
export const INFO_MAX = 5000;
export const CATEGORY_MAX = 64;

// Control characters (C0 and C1 ranges) other than line breaks and tabs, which course descriptions may use.
const CONTROL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]/;
const CONTROL_STRICT = /[\u0000-\u001F\u007F-\u009F]/;

/** Result of parsing a price: the value, or why it is not one. */
export type PriceCheck = { ok: true; value: number } | { ok: false; message: string };

/**
 * A price is a number or a numeric string ("123", "19.99"), ≥ 0, ≤ 1,000,000, at most 2 decimals.
 * Strings are parsed strictly: "12abc", "", "1e3", " " are refused (Number() would accept some).
 */
export function checkPrice(raw: unknown): PriceCheck {
  let value: number;
  if (typeof raw === 'number') {
    value = raw;
  } else if (typeof raw === 'string') {
    const s = raw.trim();
    if (!/^-?\d+(\.\d+)?$/.test(s)) return { ok: false, message: `Price must be a number or a numeric string like "19.99"; got "${raw.slice(0, 40)}".` };
    value = Number(s);
  } else {
    return { ok: false, message: 'Price must be a number or a numeric string like "19.99".' };
  }
  if (!Number.isFinite(value)) return { ok: false, message: 'Price must be a finite number.' };
  if (value < 0) return { ok: false, message: 'Price must not be negative.' };
  if (value > PRICE_MAX) return { ok: false, message: `Price must be at most ${PRICE_MAX.toLocaleString('en-US')}.` };
  if (Math.abs(Math.round(value * 100) - value * 100) > 1e-6) return { ok: false, message: 'Price can have at most 2 decimals.' };
  return { ok: true, value: Math.round(value * 100) / 100 };
}

/**
 * What the Price scalar hands to resolvers for a literal it could not parse. graphql-js reports
 * literal errors during validation, where Apollo relabels every code as GRAPHQL_VALIDATION_FAILED;
 * passing this marker through lets the resolver raise BAD_USER_INPUT with a field path instead.
 */
export class InvalidPrice {
  constructor(readonly message: string) {}
}

function text(
  fields: FieldError[],
  field: string,
  raw: unknown,
  { min, max, multiline }: { min: number; max: number; multiline: boolean },
): string | undefined {
  if (typeof raw !== 'string') {
    fields.push({ field, message: `${field} must be a string.` });
    return undefined;
  }
  const v = raw.trim();
  if (v.length < min) fields.push({ field, message: min === 1 ? `${field} must not be empty.` : `${field} must be at least ${min} characters.` });
  else if (v.length > max) fields.push({ field, message: `${field} must be at most ${max} characters (got ${v.length}).` });
  else if ((multiline ? CONTROL : CONTROL_STRICT).test(v)) fields.push({ field, message: `${field} must not contain control characters.` });
  else return v;
  return undefined;
}

function price(fields: FieldError[], raw: unknown): number | undefined {
  const r = raw instanceof InvalidPrice ? ({ ok: false, message: raw.message } as const) : checkPrice(raw);
  if (r.ok) return r.value;
  fields.push({ field: 'price', message: r.message });
  return undefined;
}

function fail(fields: FieldError[]): never {
  throw badInput(fields.length === 1 ? fields[0].message : `Invalid input: ${fields.map((f) => f.message).join(' ')}`, fields);
}

export interface CourseFields {
  name: string;
  info: string;
  category: string;
  price: number;
}

export function validateCreate(input: Record<string, unknown>): CourseFields {
  const fields: FieldError[] = [];
  const out = {
    name: text(fields, 'name', input.name, { min: 1, max: NAME_MAX, multiline: false }),
    info: text(fields, 'info', input.info, { min: 0, max: INFO_MAX, multiline: true }),
    category: text(fields, 'category', input.category, { min: 1, max: CATEGORY_MAX, multiline: false }),
    price: price(fields, input.price),
  };
  if (fields.length) fail(fields);
  return out as CourseFields;
}

export function validateUpdate(input: Record<string, unknown>): Partial<CourseFields> {
  const fields: FieldError[] = [];
  const out: Partial<CourseFields> = {};
  const has = (k: string) => input[k] !== undefined && input[k] !== null;
  if (has('name')) out.name = text(fields, 'name', input.name, { min: 1, max: NAME_MAX, multiline: false });
  if (has('info')) out.info = text(fields, 'info', input.info, { min: 0, max: INFO_MAX, multiline: true });
  if (has('category')) out.category = text(fields, 'category', input.category, { min: 1, max: CATEGORY_MAX, multiline: false });
  if (has('price')) out.price = price(fields, input.price);
  if (fields.length) fail(fields);
  if (Object.keys(out).length === 0) throw badInput('Nothing to update: give at least one of name, info, category, price.');
  return out;
}

/** A category argument (joinLobby, filters): trimmed, 1–64 characters, no control characters. */
export function validateCategoryArg(raw: string, field = 'category'): string {
  const fields: FieldError[] = [];
  const v = text(fields, field, raw, { min: 1, max: CATEGORY_MAX, multiline: false });
  if (v === undefined) fail(fields);
  return v;
}

/** `search`: trimmed and lower-cased; blank means no filter; at most the length of a course name. */
export function validateSearch(raw: string | null | undefined): string | undefined {
  const v = raw?.trim();
  if (!v) return undefined;
  if (v.length > NAME_MAX) throw badInput(`search must be at most ${NAME_MAX} characters.`, [{ field: 'search', message: 'Too long.' }]);
  return v.toLowerCase();
}

export function validateFirst(first: number | null | undefined): number {
  const n = first ?? 20;
  if (!Number.isInteger(n) || n < 1 || n > 100) {
    throw badInput('first must be between 1 and 100.', [{ field: 'first', message: 'first must be between 1 and 100.' }]);
  }
  return n;
}
