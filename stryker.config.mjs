// StrykerJS over the modules where a silent bug costs most (npm run test:mutation, not in CI; see
// docs/testing.md). scripts/mutation.ts runs one module at a time (STRYKER_MODULE), each with its own
// report, then prints a table per module and the score over all of them. The modules and their tests
// are listed in mutation-modules.cjs.
// String literals are not mutated: the error messages are asserted exactly by the unit tests, and log
// texts are no contract.
import modules from './mutation-modules.cjs';

const { MODULES: TABLE } = modules;
/** Module name → the parts of the source files it covers. */
export const MODULES = Object.fromEntries(Object.entries(TABLE).map(([name, m]) => [name, m.mutate]));

const selected = process.env.STRYKER_MODULE;
if (selected && !MODULES[selected]) throw new Error(`STRYKER_MODULE: no module "${selected}"; the modules are: ${Object.keys(MODULES).join(', ')}`);
const slug = (name) => name.replace(/[^a-z0-9]+/gi, '-');

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  packageManager: 'npm',
  testRunner: 'jest',
  jest: { projectType: 'custom', configFile: 'jest.mutation.config.js', enableFindRelatedTests: false },
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
