export * from './protos';
export * from './errors';
export * from './metadata';
export * from './server';
export * from './client';
export * from './instances';
