// The unit-level tests of the modules under mutation testing (`npm run test:mutation`, see
// mutation-modules.cjs and docs/testing.md). One flat project (Stryker measures coverage per test),
// with @dream/common mapped to its sources (the parts the mutated modules use, see
// packages/common/test/mutation-common.ts) so the tests exercise the sandbox's mutated copy.
const { MODULES } = require('./mutation-modules.cjs');

// the module Stryker is testing (scripts/mutation.ts sets it; every module's tests when unset)
const selected = process.env.STRYKER_MODULE;
const modules = selected ? [MODULES[selected]] : Object.values(MODULES);
const tests = modules.flatMap((m) => m.tests);
// only the workspaces of those tests and mutated files are crawled: jest maps every file under its roots
// before each of the hundreds of runs, and the repository is large
const workspaceOf = (file) => file.split('/').slice(0, file.startsWith('packages/') || file.startsWith('subgraphs/') ? 2 : 1).join('/');
const roots = [...new Set(modules.flatMap((m) => [...m.tests, ...m.mutate]).map(workspaceOf))];

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
  roots: roots.map((r) => `<rootDir>/${r}`),
  testMatch: tests.map((t) => `<rootDir>/${t}`),
  testTimeout: 30000,
};
