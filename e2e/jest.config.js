// `npm run test:e2e`: the web app in Debian's Chromium against a platform the tests boot (not part of `npm test`).
const swc = ['@swc/jest', { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'commonjs' } }];

/** @type {import('jest').Config} */
module.exports = {
  rootDir: '..',
  displayName: 'e2e',
  testEnvironment: 'node',
  testMatch: ['<rootDir>/e2e/**/*.test.ts'],
  transform: {
    '^.+\\.ts$': swc,
    // the platform includes the media service: @tus/server and its helpers ship as ES modules only
    '^.+\\.m?js$': swc,
  },
  transformIgnorePatterns: ['/node_modules/(?!(@tus|srvx)/)'],
  moduleFileExtensions: ['ts', 'js', 'json', 'node'],
  testTimeout: 120000,
  // one browser and one platform at a time on a 2-core machine
  maxWorkers: 1,
};
