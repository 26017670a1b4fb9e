// StrykerJS over the modules where a silent bug costs most (npm run test:mutation, not in CI; see
// docs/testing.md). scripts/mutation.ts runs one module at a time (STRYKER_MODULE), each with its own
// report, then prints a table per module and the score over all of them.
// String literals are not mutated: the error messages are asserted exactly by the unit tests, and log
// texts are no contract.

/** Module name → the parts of the source files it covers (`file:firstLine-lastLine` for a part of a file). */
export const MODULES = {
  'in-flight merge key': ['gateway/src/data-source.ts:21-139'],
  'login limit': ['subgraphs/users/src/login-rate-limit.ts'],
  'token verification and denylist': ['packages/common/src/jwt.ts:86-149', 'packages/common/src/auth.ts:22-79'],
  'purchase idempotency': ['subgraphs/courses/src/purchase.ts', 'subgraphs/courses/src/data/enrollments-repository.ts:87-145'],
  'round-robin and breaker': ['packages/common/src/round-robin.ts', 'packages/common/src/breaker.ts'],
  'media tokens': ['subgraphs/media/src/signed-token.ts', 'subgraphs/media/src/upload-ticket.ts', 'subgraphs/media/src/playback/token.ts'],
};

const selected = process.env.STRYKER_MODULE;
const slug = (name) => name.replace(/[^a-z0-9]+/gi, '-');

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  packageManager: 'npm',
  testRunner: 'jest',
  jest: { projectType: 'custom', configFile: 'jest.mutation.config.js', enableFindRelatedTests: true },
  coverageAnalysis: 'perTest',
  // the CPU is shared: one test process
  concurrency: 1,
  timeoutMS: 10000,
  ignoreStatic: true,
  mutator: { excludedMutations: ['StringLiteral'] },
  mutate: selected ? MODULES[selected] : Object.values(MODULES).flat(),
  ignorePatterns: ['/data', '/bench/results', '/faults/last-run.md', '/reports', '/web/dist'],
  reporters: ['clear-text', 'json', 'progress'],
  jsonReporter: { fileName: `reports/mutation/${selected ? slug(selected) : 'all'}.json` },
  clearTextReporter: { allowColor: false, logTests: false, reportScoreTable: true },
  tempDirName: '.stryker-tmp',
  cleanTempDir: 'always',
};
