import { createHash } from 'node:crypto';
import type { Database } from '../../db/index.ts';
import type { GatewayServices, Route } from '../../gateway/server.ts';
import {
  auditAccess,
  type CollectionAccess,
  collectionAccess,
  requestContext,
  resolveCollection,
} from '../access.ts';
import { listCollections, type PropertyType } from '../collections.ts';
import { ExtentCache } from '../extent.ts';
import { problemResponse, problems } from '../problems.ts';
import { collectionVersion } from '../versions.ts';
import { TileCache, type TileCacheOptions } from './cache.ts';
import { encodeTile } from './encode.ts';
import { type Encoder, MAX_ZOOM, type TileAddress } from './tile-sql.ts';

/**
 * Mapbox vector tiles over the collection registry:
 *   /tiles                           the tilesets this caller may see
 *   /tiles/{collection}.json         TileJSON 3.0.0
 *   /tiles/{collection}/{z}/{x}/{y}.mvt (or .pbf, which GDAL's MVT driver reads)
 * One layer per tile, named after the collection. Same access rules and audit as /ogc (channel 'tiles').
 */

export const MVT_TYPE = 'application/vnd.mapbox-vector-tile';

export interface TilesRouteOptions {
  /** @default '/tiles' */
  prefix?: string;
  /**
   * 'auto' encodes with ST_AsMVT on PostgreSQL (unless the caller's view needs masking or a hook) and in
   * TypeScript on PGlite, whose PostGIS lacks protobuf. @default 'auto'
   */
  encoder?: 'auto' | Encoder;
  cache?: TileCacheOptions;
}

function fieldType(type: PropertyType): string {
  return type === 'integer' || type === 'number' ? 'Number' : type === 'boolean' ? 'Boolean' : 'String';
}

/** Which encoder serves this view. */
export function chooseEncoder(
  option: TilesRouteOptions['encoder'],
  db: Database,
  view: CollectionAccess,
): Encoder {
  if (option === 'typescript') return 'typescript';
  if (option === 'postgis') {
    if (db.kind !== 'postgres')
      throw new Error('the postgis tile encoder needs PostgreSQL (PGlite lacks protobuf)');
    return 'postgis';
  }
  if (db.kind !== 'postgres') return 'typescript';
  const masked = Object.values(view.decisions).some((d) => d.kind === 'mask');
  return masked || view.collection.hook ? 'typescript' : 'postgis';
}

function parseTileAddress(zText: string, xText: string, yText: string): TileAddress {
  const whole = (text: string, name: string) => {
    if (!/^\d{1,8}$/.test(text))
      throw problems.badParameter(name, `must be a non-negative integer, got '${text}'`);
    return Number(text);
  };
  const z = whole(zText, 'z');
  if (z > MAX_ZOOM) throw problems.badParameter('z', `must be at most ${MAX_ZOOM}, got ${z}`);
  const x = whole(xText, 'x');
  const y = whole(yText, 'y');
  const size = 2 ** z;
  if (x >= size) throw problems.badParameter('x', `must be below ${size} at zoom ${z}, got ${x}`);
  if (y >= size) throw problems.badParameter('y', `must be below ${size} at zoom ${z}, got ${y}`);
  return { z, x, y };
}

function etagOf(bytes: Uint8Array): string {
  return `"${createHash('sha256').update(bytes).digest('base64url').slice(0, 32)}"`;
}

function matches(ifNoneMatch: string | null, etag: string): boolean {
  if (!ifNoneMatch) return false;
  return ifNoneMatch
    .split(',')
    .map((t) => t.trim().replace(/^W\//, ''))
    .some((t) => t === '*' || t === etag);
}

export function tilesRoute(options: TilesRouteOptions = {}): Route & { cache: TileCache } {
  const prefix = options.prefix ?? '/tiles';
  const cache = new TileCache(options.cache);
  const extents = new ExtentCache();

  function headers(view: CollectionAccess, extra: Record<string, string> = {}): Record<string, string> {
    const isPublic = view.ctx.principal.kind === 'public';
    return {
      // Revalidate every time (cheap with ETag → 304): invalidateCollection() must take effect at once.
      'cache-control': isPublic ? 'public, no-cache' : 'private, no-cache',
      vary: 'Authorization, X-Api-Key',
      ...extra,
    };
  }

  async function tileJson(services: GatewayServices, view: CollectionAccess, origin: string) {
    const { collection } = view;
    const tiles = collection.tiles;
    if (!tiles) throw problems.notFound(`${prefix}/${collection.id}.json`);
    const extent = await extents.get(services.db, collection);
    const bounds = extent.bbox ?? [-180, -85.0511, 180, 85.0511];
    const fields: Record<string, string> = {};
    for (const name of view.visible) fields[name] = fieldType(collection.properties[name]!.type);
    if (tiles.cluster) fields.count = 'Number';
    return {
      tilejson: '3.0.0',
      name: collection.title,
      description: collection.description,
      version: '1.0.0',
      scheme: 'xyz',
      tiles: [`${origin}${prefix}/${collection.id}/{z}/{x}/{y}.mvt`],
      minzoom: tiles.minZoom,
      maxzoom: tiles.maxZoom,
      bounds,
      center: [(bounds[0] + bounds[2]) / 2, (bounds[1] + bounds[3]) / 2, tiles.minZoom],
      vector_layers: [
        {
          id: collection.id,
          description: tiles.cluster
            ? `${collection.description}. Below zoom ${tiles.cluster.belowZoom}, points are grouped into cells with a count.`
            : collection.description,
          minzoom: tiles.minZoom,
          maxzoom: tiles.maxZoom,
          fields,
        },
      ],
    };
  }

  async function handle(request: Request, services: GatewayServices): Promise<Response> {
    if (request.method !== 'GET' && request.method !== 'HEAD')
      throw problems.methodNotAllowed(request.method);
    const url = new URL(request.url);
    const segments = url.pathname.slice(prefix.length).split('/').filter(Boolean);
    const ctx = requestContext(await services.principalOf(request), services);

    if (segments.length === 0) {
      const tilesets = listCollections()
        .filter((c) => c.tiles)
        .map((c) => collectionAccess(c, ctx))
        .filter((v): v is CollectionAccess => v !== null && v.geometrySql !== null)
        .map((v) => ({
          id: v.collection.id,
          title: v.collection.title,
          tilejson: `${url.origin}${prefix}/${v.collection.id}.json`,
        }));
      return Response.json({ tilesets });
    }

    if (segments.length === 1 && segments[0]!.endsWith('.json')) {
      const view = resolveCollection(decodeURIComponent(segments[0]!.slice(0, -'.json'.length)), ctx);
      if (view.geometrySql === null) throw problems.collectionNotFound(view.collection.id);
      return Response.json(await tileJson(services, view, url.origin), { headers: headers(view) });
    }

    const match = segments.length === 4 ? /^(\d+)\.(mvt|pbf)$/.exec(segments[3]!) : null;
    if (!match) {
      if (segments.length === 4)
        throw problems.badParameter('y', `must be an integer followed by .mvt or .pbf, got '${segments[3]}'`);
      throw problems.notFound(url.pathname);
    }
    const view = resolveCollection(decodeURIComponent(segments[0]!), ctx);
    const { collection } = view;
    const address = parseTileAddress(segments[1]!, segments[2]!, match[1]!);
    if (!collection.tiles || view.geometrySql === null) throw problems.collectionNotFound(collection.id);
    if (address.z < collection.tiles.minZoom || address.z > collection.tiles.maxZoom) {
      throw problems.notFound(
        `Tile ${address.z}/${address.x}/${address.y} of '${collection.id}' (zooms ${collection.tiles.minZoom}–${collection.tiles.maxZoom})`,
      );
    }
    const encoder = chooseEncoder(options.encoder, services.db, view);
    const key = `${collection.id}@${collectionVersion(collection.id)}/${address.z}/${address.x}/${address.y}/${encoder}#${view.key}`;
    let tile = cache.get(key);
    if (!tile) {
      const encoded = await encodeTile(services.db, view, address, encoder);
      tile = { ...encoded, etag: etagOf(encoded.bytes) };
      cache.set(key, tile);
    }
    if (matches(request.headers.get('if-none-match'), tile.etag)) {
      return new Response(null, { status: 304, headers: headers(view, { etag: tile.etag }) });
    }
    await auditAccess(services, view, 'tiles', url.pathname, tile.features, tile.served);
    return new Response(tile.bytes.byteLength ? (tile.bytes as Uint8Array<ArrayBuffer>) : null, {
      status: 200,
      headers: headers(view, {
        'content-type': MVT_TYPE,
        etag: tile.etag,
        'content-length': String(tile.bytes.byteLength),
      }),
    });
  }

  return {
    prefix,
    cache,
    async handle(request, services) {
      let response: Response;
      try {
        response = await handle(request, services);
      } catch (error) {
        response = problemResponse(error);
      }
      if (request.method === 'HEAD')
        return new Response(null, { status: response.status, headers: response.headers });
      return response;
    },
  };
}
