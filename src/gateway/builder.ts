import SchemaBuilder from '@pothos/core';
import RelayPlugin from '@pothos/plugin-relay';
import type { Geometry } from '../db/geojson.ts';
import GovAccessPlugin from './access-plugin/index.ts';
import type { GatewayContext } from './context.ts';

/** The builder: plugins, context and scalars. Types live with their registries. */
export const builder = new SchemaBuilder<{
  Context: GatewayContext;
  Scalars: {
    GeoJSON: { Input: Geometry; Output: Geometry };
    Date: { Input: string; Output: string };
    DateTime: { Input: Date; Output: Date | string };
  };
}>({
  plugins: [RelayPlugin, GovAccessPlugin],
  relay: {
    clientMutationId: 'omit',
    cursorType: 'String',
    nodeQueryOptions: false,
    nodesQueryOptions: false,
  },
});

builder.queryType({
  description: 'The foundational information base: population, legal-entity and geospatial registries',
});

builder.subscriptionType({
  description: 'Push feeds over server-sent events (POST /graphql with Accept: text/event-stream)',
});
