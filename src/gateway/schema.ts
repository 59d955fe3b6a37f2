import './scalars.ts';
import '../registries/spatial/division-types.ts';
import '../registries/population/person-types.ts';
import '../registries/population/queries.ts';
import '../registries/population/statistics.ts';
import type { GraphQLSchema } from 'graphql';
import { builder } from './builder.ts';

let schema: GraphQLSchema | undefined;

/** The one schema: every registry's types, built once. */
export function buildSchema(): GraphQLSchema {
  schema ??= builder.toSchema({ sortSchema: true });
  return schema;
}
