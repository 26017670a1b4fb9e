// The modules under mutation testing (`npm run test:mutation`, see docs/testing.md), read by
// stryker.config.mjs (what to mutate) and jest.mutation.config.js (which tests Stryker runs), so the two
// never disagree. Each module names the parts of the source files it covers (`file:firstLine-lastLine`
// for a part of a file) and the unit-level tests that check them: only those run while that module's
// mutants are tested (no service boots, no other module's tests loaded on every mutant).
/** @type {Record<string, { mutate: string[]; tests: string[] }>} */
const MODULES = {
  'token verification and denylist': {
    mutate: ['packages/common/src/jwt.ts:86-149', 'packages/common/src/auth.ts:22-79'],
    tests: ['packages/common/test/jwt.test.ts', 'packages/common/test/jwt-cache.test.ts', 'packages/common/test/auth.test.ts'],
  },
  'in-flight merge key': {
    mutate: ['gateway/src/data-source.ts:25-70', 'gateway/src/data-source.ts:116-179'],
    tests: ['gateway/test/dedupe.test.ts', 'gateway/test/read-after-write.test.ts'],
  },
  'round-robin and breaker': {
    mutate: ['packages/common/src/round-robin.ts', 'packages/common/src/breaker.ts'],
    tests: ['packages/common/test/round-robin.test.ts', 'packages/common/test/instance-pool.test.ts', 'packages/common/test/pool-routing.test.ts', 'packages/common/test/breaker.test.ts'],
  },
  'login limit': {
    mutate: ['subgraphs/users/src/login-rate-limit.ts'],
    tests: ['subgraphs/users/test/login-rate-limit.test.ts'],
  },
  'purchase idempotency': {
    mutate: ['subgraphs/courses/src/purchase.ts', 'subgraphs/courses/src/data/enrollments-repository.ts:87-145'],
    tests: ['subgraphs/courses/test/purchase-service.test.ts', 'subgraphs/courses/test/repository.test.ts'],
  },
  'media tokens': {
    mutate: ['subgraphs/media/src/signed-token.ts', 'subgraphs/media/src/upload-ticket.ts', 'subgraphs/media/src/playback/token.ts'],
    tests: ['subgraphs/media/test/token-formats.test.ts'],
  },
};

module.exports = { MODULES };
