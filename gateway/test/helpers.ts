// The real-topology harness lives in packages/testenv (shared with the benchmarks); re-exported so test imports stay short.
export * from '@dream/testenv';
