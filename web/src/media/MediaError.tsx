import type { CombinedError } from '@urql/core';
import { ErrorMessage, Notice } from '../components/Status';
import { codesOf } from '../graphql/errors';

/**
 * An error of a media query. While the media service is away the gateway's composed schema has no
 * lessons at all, so the query fails validation: the page says so in words (a status, as the rest of
 * the page works) instead of showing the schema's message.
 */
export function MediaError({ error, action }: { error: CombinedError | undefined; action: string }) {
  if (error && codesOf(error).includes('GRAPHQL_VALIDATION_FAILED')) {
    return <Notice>Lessons and progress are not available right now (the video service cannot be reached). Try again in a moment.</Notice>;
  }
  return <ErrorMessage error={error} action={action} />;
}
