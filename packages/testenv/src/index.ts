export * from './stack';
export * from './subgraphs';
export * from './processes';
export * from './probes';
export * from './recording-proxy';
export * from './otlp-sink';
export type { GqlResult, GqlRequest } from '@dream/common/testing';
