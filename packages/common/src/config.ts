import { z } from 'zod';

export class ConfigError extends Error {
  constructor(readonly service: string, readonly problems: string[]) {
    super(`${service}: invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

/** A TCP port; 0 asks the OS for a free one. */
export const port = (dflt: number) => z.coerce.number().int().min(0).max(65535).default(dflt);
export const url = (dflt?: string) => (dflt === undefined ? z.string().url() : z.string().url().default(dflt));
export const positiveInt = (dflt: number) => z.coerce.number().int().positive().default(dflt);
export const optionalString = () =>
  z
    .string()
    .optional()
    .transform((v) => (v === undefined || v.trim() === '' ? undefined : v));
/** Booleans from the environment: 1/0, true/false, yes/no. */
export const flag = (dflt: boolean) =>
  z
    .enum(['1', '0', 'true', 'false', 'yes', 'no', ''])
    .optional()
    .transform((v) => (v === undefined || v === '' ? dflt : ['1', 'true', 'yes'].includes(v)));

/** Variables every service reads. */
export const baseEnv = {
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  NODE_ENV: z.string().default('development'),
};

/**
 * Reads and validates a service's environment once at start. Unknown variables are ignored;
 * each bad one is named with the reason so a misconfigured deploy fails with a clear message.
 */
export function loadConfig<S extends z.ZodRawShape>(
  service: string,
  shape: S,
  env: NodeJS.ProcessEnv = process.env,
): z.infer<z.ZodObject<S>> {
  const schema = z.object(shape);
  const input: Record<string, string | undefined> = {};
  for (const key of Object.keys(shape)) {
    const v = env[key];
    input[key] = v === '' ? undefined : v;
  }
  const result = schema.safeParse(input);
  if (!result.success) {
    const problems = result.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new ConfigError(service, problems);
  }
  return result.data;
}
