/**
 * The GraphQL operations of the lesson-playing journey (play-lesson.ts). Kept free of k6 imports so
 * test/loadtest.test.ts can validate them against the committed supergraph.
 */

/** Signed playback URLs of one lesson (null for a caller who is neither its owner nor enrolled). */
export const PLAYBACK_QUERY = 'query Play($id: ID!) { lesson(id: $id) { id status playback { hlsUrl mp4Url expiresAt } } }';

/** The lessons the caller may see, with playback where it may play them (to find a lesson to play). */
export const PLAYABLE_QUERY = 'query Playable { courses(first: 50) { id lessons { id status playback { hlsUrl } } } }';
