// What only a subgraph process needs (Apollo Server, the subgraph schema builder, its start-up): a
// separate entry so the gateway and discovery do not load it.
export * from './subgraph-config';
export * from './subgraph-server';
export * from './subgraph-service';
