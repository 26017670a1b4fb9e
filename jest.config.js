// One jest run for every workspace; `--selectProjects <name>` runs one (each workspace's `npm test`).
const transform = {
  '^.+\\.ts$': ['@swc/jest', { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'commonjs' } }],
};
const project = (displayName, rootDir) => ({
  displayName,
  rootDir,
  testEnvironment: 'node',
  transform,
  testMatch: ['<rootDir>/test/**/*.test.ts'],
  moduleFileExtensions: ['ts', 'js', 'json', 'node'],
  // a Stryker sandbox (npm run test:mutation) is a second copy of the repository
  modulePathIgnorePatterns: ['/\\.stryker-tmp/'],
});

/** @type {import('jest').Config} */
module.exports = {
  projects: [
    project('common', '<rootDir>/packages/common'),
    project('discovery', '<rootDir>/discovery'),
    project('users', '<rootDir>/subgraphs/users'),
    project('courses', '<rootDir>/subgraphs/courses'),
    project('media', '<rootDir>/subgraphs/media'),
    project('gateway', '<rootDir>/gateway'),
    project('testenv', '<rootDir>/packages/testenv'),
    // repository-wide checks: compose file, supergraph drift, k6 scripts
    project('ops', '<rootDir>'),
    // fault and abuse suite (`npm run test:faults`): real processes, SIGKILL, restarts; prints a table at the end
    {
      ...project('faults', '<rootDir>/faults'),
      testMatch: ['<rootDir>/**/*.test.ts'],
      testPathIgnorePatterns: ['/node_modules/', '<rootDir>/network/'],
      globalSetup: '<rootDir>/global-setup.ts',
      globalTeardown: '<rootDir>/global-teardown.ts',
    },
    // network faults (`npm run test:network`; root, iproute2 and nftables): private hosts in network
    // namespaces cut apart with nftables. Only when asked for, so `npm test` stays runnable as any user.
    ...(process.env.NETWORK_FAULTS === '1'
      ? [
          {
            ...project('network', '<rootDir>/faults/network'),
            testMatch: ['<rootDir>/**/*.test.ts'],
            globalSetup: '<rootDir>/../global-setup.ts',
            globalTeardown: '<rootDir>/../global-teardown.ts',
          },
        ]
      : []),
  ],
  testTimeout: 30000,
  // On two cores jest runs the suites in its own process (in band), so one timer a suite forgets keeps the
  // run from ending after every test has passed (seen once in CI, not yet traced to its suite); processes
  // and ports are still checked by the suites' own teardown.
  forceExit: true,
};
