// `@dream/common` as the mutation run sees it (jest.mutation.config.js maps the package here): the same
// source modules, without the gRPC, Apollo server and discovery parts that none of the mutated modules
// use. Loading those took most of each mutant's test run.
export * from '../src/errors';
export * from '../src/logger';
export * from '../src/jwt';
export * from '../src/auth';
export * from '../src/db';
export * from '../src/http';
export * from '../src/breaker';
export * from '../src/round-robin';
export * from '../src/service-auth';
export * from '../src/client-address';
