import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildSubgraphSchema } from '@apollo/subgraph';
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper';
import { parse, type GraphQLSchema } from 'graphql';
import { resolvers } from './resolvers';

/** The subgraph's SDL as written (what composition and `_service { sdl }` see). */
export const mediaSdl = (): string => readFileSync(join(__dirname, 'schema.graphql'), 'utf8');

export function buildMediaSchema(): GraphQLSchema {
  return buildSubgraphSchema({ typeDefs: parse(mediaSdl()), resolvers: resolvers as GraphQLResolverMap<unknown> });
}
