// The database layer (kysely, SQLite and the Oracle driver): a separate entry so the services without a
// database (gateway, discovery) never load the drivers.
export * from './db';
export * from './oracle';
export * from './sqlite-busy';
