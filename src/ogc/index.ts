/**
 * The spatial endpoints: OGC API – Features (/ogc) and Mapbox vector tiles (/tiles) over one collection
 * registry. Mount both beside /graphql: `createGateway({ …, routes: [ogcRoute(), tilesRoute()] })`.
 */
export { type CollectionAccess, collectionAccess, requestContext } from './access.ts';
export {
  type Collection,
  type CollectionContext,
  type CollectionDefinition,
  type FeatureHook,
  type FeatureRecord,
  type GeometryType,
  getCollection,
  listCollections,
  type PropertyDefinition,
  type PropertyType,
  registerCollection,
  type TileSettings,
} from './collections.ts';
export { parseCql2 } from './cql2.ts';
export { extentSql } from './extent.ts';
export { type SmallCellOptions, smallCellSuppression } from './hooks.ts';
export { type ItemsRequest, itemSql, itemsSql } from './items.ts';
export { CRS84, EPSG_4490, MAX_LIMIT } from './query-params.ts';
export { CONFORMANCE_CLASSES, type OgcRouteOptions, ogcRoute } from './route.ts';
export type { SqlStatement } from './sql.ts';
export { encodeTile } from './tiles/encode.ts';
export { chooseEncoder, MVT_TYPE, type TilesRouteOptions, tilesRoute } from './tiles/route.ts';
export { type Encoder, type TileAddress, tileSql } from './tiles/tile-sql.ts';
export { invalidateCollection } from './versions.ts';
