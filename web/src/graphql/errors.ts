import type { CombinedError } from '@urql/core';

/** The API's error codes (extensions.code) the app reacts to. */
export type ApiCode =
  | 'BAD_USER_INPUT'
  | 'UNAUTHENTICATED'
  | 'FORBIDDEN'
  | 'NOT_FOUND'
  | 'CONFLICT'
  | 'RATE_LIMITED'
  | 'SERVICE_UNAVAILABLE'
  | string;

export function codesOf(error: CombinedError | undefined): ApiCode[] {
  if (!error) return [];
  return error.graphQLErrors.map((e) => String(e.extensions?.code ?? ''));
}

export function isUnauthenticated(error: CombinedError | undefined): boolean {
  return !!error && (codesOf(error).includes('UNAUTHENTICATED') || error.response?.status === 401);
}

/**
 * An error in words a person can act on. The API's messages are written for people (they name the
 * field or the rule), so they are shown as they are; transport failures get a sentence of their own.
 */
export function describeError(error: CombinedError): string {
  if (error.graphQLErrors.length) {
    const messages = [...new Set(error.graphQLErrors.map((e) => e.message.trim()).filter(Boolean))];
    if (messages.length) return messages.join(' ');
  }
  const status = (error.response as Response | undefined)?.status;
  if (status === 429) return 'Too many requests: wait a moment and try again.';
  if (status && status >= 500) return `The server could not answer (HTTP ${status}). Try again in a moment.`;
  if (error.networkError) return 'Could not reach Dream and Study. Check your connection and try again.';
  return error.message.replace(/^\[\w+\]\s*/, '') || 'Something went wrong.';
}
