import pino, { type Logger } from 'pino';

export type { Logger };

/** Paths never written to a log line: credentials and tokens. */
export const REDACT_PATHS = [
  'password',
  '*.password',
  'passwordHash',
  '*.passwordHash',
  'password_hash',
  '*.password_hash',
  'jwt',
  '*.jwt',
  'token',
  '*.token',
  'req.headers.authorization',
  'req.headers.jwt',
  'headers.authorization',
  'headers.jwt',
  'authorization',
  'privateKey',
];

export interface LoggerOptions {
  level?: string;
  /** Where lines go; defaults to stdout. Tests pass a stream to capture lines. */
  destination?: pino.DestinationStream;
}

/** One structured JSON logger per service; child loggers carry the request id. */
export function createLogger(service: string, opts: LoggerOptions = {}): Logger {
  const level = opts.level ?? process.env.LOG_LEVEL ?? (process.env.NODE_ENV === 'test' ? 'silent' : 'info');
  return pino(
    {
      name: service,
      level,
      base: { service, pid: process.pid },
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    opts.destination,
  );
}
