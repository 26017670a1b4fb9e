export * from './token';
export { answerRange, type RangeAnswer } from './range';
export { createPlaybackHandler, type PlaybackRouteOptions } from './routes';
