import './scalars.ts';
import '../registries/spatial/division-types.ts';
import '../registries/spatial/layer-queries.ts';
import '../registries/spatial/layer-collections.ts';
import '../registries/spatial/spatial-aggregate.ts';
import '../registries/spatial/persons-within.ts';
import '../registries/population/person-types.ts';
import '../registries/population/queries.ts';
import '../registries/population/statistics.ts';
import '../registries/legal-entity/entity-types.ts';
import '../registries/legal-entity/queries.ts';
import '../registries/legal-entity/feed.ts';
import '../registries/population/access-report.ts';
import '../quality/graphql.ts';
import '../registries/population/history.ts';
import '../registries/population/household-history.ts';
import '../registries/legal-entity/history.ts';
import '../registries/spatial/feature-history.ts';
import '../exchange/graphql.ts';
import '../ingest/import/graphql.ts';
import '../ingest/import/lineage-graphql.ts';
import '../tags/graphql.ts';
import '../subjects/index.ts';
import '../catalogue/graphql.ts';
import '../attributes/graphql.ts';
import type { GraphQLSchema } from 'graphql';
import { builder } from './builder.ts';

let schema: GraphQLSchema | undefined;

/** The one schema: every registry's types, built once. */
export function buildSchema(): GraphQLSchema {
  schema ??= builder.toSchema({ sortSchema: true });
  return schema;
}
