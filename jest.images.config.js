// `npm run test:images` (scripts/test-images.sh): builds the Dockerfile's targets without Docker and starts
// each service as compose would (test-images/). Slow (npm ci + a native build on the images' Node major),
// so it is its own jest config, kept out of `npm test`.
const { projects } = require('./jest.config.js');
const ops = projects.find((p) => p.displayName === 'ops');

/** @type {import('jest').Config} */
module.exports = {
  projects: [{ ...ops, displayName: 'images', testMatch: ['<rootDir>/test-images/**/*.test.ts'] }],
  testTimeout: 600000,
};
