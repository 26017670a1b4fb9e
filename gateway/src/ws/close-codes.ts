/** Close codes (graphql-ws uses 4400/4403/4408/4409/4429/4500; 4401 is ours for a missing or bad token). */
export const CLOSE_UNAUTHORIZED = 4401;
/** RFC 6455 "Try Again Later": the token could not be checked (denylist unreachable); the client may retry. */
export const CLOSE_TRY_AGAIN_LATER = 1013;
