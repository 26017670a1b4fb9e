import { z } from 'zod';
import { badInput, parseInput, type Role } from '@dream/common';

export const USERNAME_PATTERN = /^[A-Za-z0-9_.-]+$/;
export const PASSWORD_MIN = 8;
/** Bounds the work one login or signup can ask of argon2 (and stays far above any real passphrase). */
export const PASSWORD_MAX = 128;

const username = z
  .string()
  .min(3, { error: 'Username must be 3 to 32 characters long.' })
  .max(32, { error: 'Username must be 3 to 32 characters long.' })
  .regex(USERNAME_PATTERN, { error: "Username may only contain letters, digits, '_', '.' and '-'." });

const password = z
  .string()
  .min(PASSWORD_MIN, { error: `Password must be at least ${PASSWORD_MIN} characters long.` })
  .max(PASSWORD_MAX, { error: `Password must be at most ${PASSWORD_MAX} characters long.` });

// Emails are compared case-insensitively in practice, so we store them trimmed and lower-cased:
// "John@X.org" and "john@x.org" are one account.
const email = z
  .string()
  .trim()
  .toLowerCase()
  .max(254, { error: 'Email must be at most 254 characters long.' })
  .pipe(z.email({ error: 'Email must be a valid email address.' }));

const roles = z
  .array(z.enum(['STUDENT', 'OWNER'], { error: 'Roles may only be STUDENT or OWNER.' }))
  .min(1, { error: 'Roles must contain at least one of STUDENT or OWNER.' })
  .transform((rs) => [...new Set(rs)] as Role[]);

const signupSchema = z.object({ username, password, email, roles });

export type SignupData = z.infer<typeof signupSchema>;

const loginSchema = z.object({
  username: z.string().min(1, { error: 'Username is required.' }).max(32, { error: 'Username must be at most 32 characters long.' }),
  password: z.string().min(1, { error: 'Password is required.' }).max(PASSWORD_MAX, { error: `Password must be at most ${PASSWORD_MAX} characters long.` }),
});

/** BAD_USER_INPUT naming each bad field of the form once (its first problem), in input order. */
function parse<T>(schema: z.ZodType<T>, input: unknown): T {
  return parseInput(schema, input, {
    root: 'input',
    topLevel: true,
    summary: (fields) => `Invalid input: ${fields.map((f) => `${f.field}: ${f.message}`).join(' ')}`,
  });
}

/** Validates a signup; BAD_USER_INPUT with `extensions.fields` naming every bad field. */
export function validateSignup(input: unknown): SignupData {
  return parse(signupSchema, input);
}

/** Only bounds the login input: anything else is answered by the credential check itself. */
export function validateLogin(input: unknown): { username: string; password: string } {
  return parse(loginSchema, input);
}
