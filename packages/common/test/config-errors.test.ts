import { GraphQLError } from 'graphql';
import { z } from 'zod';
import { AppError, ConfigError, formatGraphQLError, loadConfig, port, flag } from '../src';
import { parseDatabaseUrl } from '../src/database';

describe('loadConfig', () => {
  const shape = { PORT: port(8080), DEBUG: flag(false), NAME: z.string().min(2) };

  it('applies defaults and coerces values', () => {
    expect(loadConfig('svc', shape, { NAME: 'ok' })).toEqual({ PORT: 8080, DEBUG: false, NAME: 'ok' });
    expect(loadConfig('svc', shape, { NAME: 'ok', PORT: '0', DEBUG: 'yes' })).toEqual({ PORT: 0, DEBUG: true, NAME: 'ok' });
  });

  it('names every bad variable in one clear error', () => {
    try {
      loadConfig('svc', shape, { PORT: '70000', NAME: 'x' });
      throw new Error('should have failed');
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      expect((e as ConfigError).problems.map((p) => p.split(':')[0]).sort()).toEqual(['NAME', 'PORT']);
      expect((e as Error).message).toContain('svc: invalid configuration');
    }
  });
});

describe('formatGraphQLError', () => {
  it('keeps API errors with their code and drops stack traces', () => {
    const err = new AppError('FORBIDDEN', 'Not yours.');
    const out = formatGraphQLError({ message: err.message, extensions: { ...err.extensions, stacktrace: ['x'] } }, err);
    expect(out.extensions).toMatchObject({ code: 'FORBIDDEN' });
    expect(out.extensions).not.toHaveProperty('stacktrace');
  });

  it('hides unexpected errors behind INTERNAL_SERVER_ERROR', () => {
    const raw = new GraphQLError('SQLITE_ERROR: no such table users', { originalError: new Error('boom') });
    const out = formatGraphQLError({ message: raw.message, extensions: { code: 'INTERNAL_SERVER_ERROR' } }, raw);
    expect(out).toMatchObject({ message: 'Internal server error.', extensions: { code: 'INTERNAL_SERVER_ERROR' } });
  });
});

describe('parseDatabaseUrl', () => {
  it('understands sqlite and oracle URLs', () => {
    expect(parseDatabaseUrl('sqlite:./data/users.db')).toEqual({ dialect: 'sqlite', file: './data/users.db' });
    expect(parseDatabaseUrl('oracle://app:s%40cret@db:1521/FREEPDB1')).toEqual({
      dialect: 'oracle',
      user: 'app',
      password: 's@cret',
      connectString: 'db:1521/FREEPDB1',
    });
  });
  it('refuses anything else', () => {
    expect(() => parseDatabaseUrl('postgres://x')).toThrow(/neither sqlite/);
  });
});
