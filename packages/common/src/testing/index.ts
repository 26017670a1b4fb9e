export * from './free-port';
export * from './wait';
export * from './redis-server';
export * from './disposables';
export * from './http';
export * from './metrics';
export * from './oracle-double';
export * from './oracle-sql-lint';
