// The unit-level tests of the modules under mutation testing (`npm run test:mutation`, see
// stryker.config.json and docs/testing.md). One flat project (Stryker measures coverage per test),
// with @dream/common mapped to its sources (the parts the mutated modules use, see
// packages/common/test/mutation-common.ts) so the tests exercise the sandbox's mutated copy.
/** @type {import('jest').Config} */
module.exports = {
  rootDir: __dirname,
  testEnvironment: 'node',
  transform: {
    '^.+\\.ts$': ['@swc/jest', { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'commonjs' } }],
  },
  moduleFileExtensions: ['ts', 'js', 'json', 'node'],
  // a Stryker sandbox under the repository is a second copy of every package
  modulePathIgnorePatterns: ['<rootDir>/.stryker-tmp/'],
  moduleNameMapper: {
    '^@dream/common$': '<rootDir>/packages/common/test/mutation-common.ts',
    '^@dream/common/testing$': '<rootDir>/packages/common/src/testing/index.ts',
  },
  testMatch: [
    '<rootDir>/packages/common/test/jwt.test.ts',
    '<rootDir>/packages/common/test/jwt-cache.test.ts',
    '<rootDir>/packages/common/test/auth.test.ts',
    '<rootDir>/packages/common/test/round-robin.test.ts',
    '<rootDir>/packages/common/test/breaker.test.ts',
    '<rootDir>/packages/common/test/instance-pool.test.ts',
    '<rootDir>/gateway/test/dedupe.test.ts',
    '<rootDir>/subgraphs/users/test/abuse-limits.test.ts',
    '<rootDir>/subgraphs/courses/test/purchase-service.test.ts',
    '<rootDir>/subgraphs/courses/test/repository.test.ts',
    '<rootDir>/subgraphs/media/test/token-formats.test.ts',
  ],
  testTimeout: 30000,
};
