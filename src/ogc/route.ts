import type { GatewayServices, Route } from '../gateway/server.ts';
import {
  auditAccess,
  type CollectionAccess,
  collectionAccess,
  requestContext,
  resolveLiveCollection,
} from './access.ts';
import { listCollections, type PropertyType } from './collections.ts';
import { parseCql2 } from './cql2.ts';
import { ExtentCache } from './extent.ts';
import type { Link } from './html.ts';
import * as html from './html.ts';
import { type FeatureOut, featureJson, queryableNames, queryItem, queryItems } from './items.ts';
import { negotiate } from './negotiate.ts';
import { openApiDocument } from './openapi.ts';
import { problemResponse, problems } from './problems.ts';
import {
  CRS84,
  EPSG_4490,
  isLatLon,
  parseBbox,
  parseCrs,
  parseDatetime,
  parseLimit,
  parseOffset,
  parseProperties,
  parseSortby,
  rejectUnknown,
  SUPPORTED_CRS,
  single,
} from './query-params.ts';

/**
 * OGC API – Features over the collection registry:
 *   /ogc                                   landing page
 *   /ogc/conformance                       conformance classes
 *   /ogc/api                               OpenAPI 3.0 definition
 *   /ogc/collections[/{id}]                collections, with extents and links
 *   /ogc/collections/{id}/items[/{fid}]    GeoJSON features (bbox, crs, datetime, filter, sortby, properties)
 *   /ogc/collections/{id}/queryables       JSON Schema of the filterable properties (also /sortables)
 * Every representation is JSON or HTML (f=json|html, or Accept).
 */

/** What /conformance declares; each class is implemented and tested (test/ogc*.test.ts). */
export const CONFORMANCE_CLASSES = [
  'http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core',
  'http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson',
  'http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/html',
  'http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30',
  'http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs',
  'http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables',
  'http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/filter',
  'http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/features-filter',
  'http://www.opengis.net/spec/cql2/1.0/conf/cql2-text',
  'http://www.opengis.net/spec/cql2/1.0/conf/basic-cql2',
  'http://www.opengis.net/spec/cql2/1.0/conf/advanced-comparison-operators',
  'http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions',
  'http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions-plus',
  // Drafts (Part 6 property selection, Part 8 sorting): implemented as the drafts describe them.
  'http://www.opengis.net/spec/ogcapi-features-6/1.0/conf/property-selection',
  'http://www.opengis.net/spec/ogcapi-features-8/1.0/conf/sorting',
];

const ITEMS_PARAMETERS = [
  'f',
  'bbox',
  'bbox-crs',
  'crs',
  'datetime',
  'limit',
  'offset',
  'properties',
  'sortby',
  'filter',
  'filter-lang',
  'filter-crs',
];
const ITEM_PARAMETERS = ['f', 'crs', 'properties'];

const GEOJSON = 'application/geo+json';
const JSON_TYPE = 'application/json';
const OPENAPI = 'application/vnd.oai.openapi+json;version=3.0';
const SCHEMA = 'application/schema+json';
const HTML = 'text/html';

export interface OgcRouteOptions {
  /** @default '/ogc' */
  prefix?: string;
  /** Where tilesRoute() is mounted, for the TileJSON links of collections. @default '/tiles' */
  tilesPrefix?: string | null;
  /** @default 'govbase OGC API – Features' */
  title?: string;
}

function link(href: string, rel: string, type?: string, title?: string): Link {
  return { href, rel, ...(type ? { type } : {}), ...(title ? { title } : {}) };
}

function withParams(base: string, params: URLSearchParams): string {
  const query = params.toString();
  return query ? `${base}?${query}` : base;
}

function respond(body: string, type: string, status = 200, extra: Record<string, string> = {}): Response {
  return new Response(body, {
    status,
    headers: {
      'content-type': type === HTML ? 'text/html; charset=utf-8' : type,
      vary: 'Accept, Authorization, X-Api-Key',
      ...extra,
    },
  });
}

function jsonSchemaType(type: PropertyType): Record<string, string> {
  switch (type) {
    case 'date':
      return { type: 'string', format: 'date' };
    case 'date-time':
      return { type: 'string', format: 'date-time' };
    default:
      return { type };
  }
}

function geometryType(json: string | null): string | null {
  return json ? (/"type":"(\w+)"/.exec(json)?.[1] ?? null) : null;
}

export function ogcRoute(options: OgcRouteOptions = {}): Route {
  const prefix = options.prefix ?? '/ogc';
  const tilesPrefix = options.tilesPrefix === undefined ? '/tiles' : options.tilesPrefix;
  const title = options.title ?? 'govbase OGC API – Features';
  /** Extents by collection id and version: computed on first use, dropped when the collection changes. */
  const extents = new ExtentCache();

  async function collectionDoc(
    services: GatewayServices,
    view: CollectionAccess,
    root: string,
    origin: string,
  ) {
    const { collection } = view;
    const base = `${root}/collections/${collection.id}`;
    const extent = await extents.get(services.db, collection);
    const links: Link[] = [
      link(base, 'self', JSON_TYPE, 'This collection'),
      link(`${base}?f=html`, 'alternate', HTML, 'This collection as HTML'),
      link(`${base}/items`, 'items', GEOJSON, 'Features (GeoJSON)'),
      link(`${base}/items?f=html`, 'items', HTML, 'Features (HTML)'),
      link(`${base}/queryables`, 'http://www.opengis.net/def/rel/ogc/1.0/queryables', SCHEMA, 'Queryables'),
      link(`${base}/sortables`, 'http://www.opengis.net/def/rel/ogc/1.0/sortables', SCHEMA, 'Sortables'),
    ];
    if (collection.tiles && tilesPrefix !== null) {
      links.push(
        link(
          `${origin}${tilesPrefix}/${collection.id}.json`,
          'related',
          JSON_TYPE,
          'Vector tiles (TileJSON 3.0.0)',
        ),
      );
      links.push({
        ...link(
          `${origin}${tilesPrefix}/${collection.id}/{z}/{x}/{y}.mvt`,
          'related',
          'application/vnd.mapbox-vector-tile',
          'Vector tiles (WebMercatorQuad)',
        ),
        templated: true,
      });
    }
    return {
      id: collection.id,
      title: collection.title,
      description: collection.description,
      ...(collection.keywords ? { keywords: collection.keywords } : {}),
      itemType: 'feature',
      extent: {
        spatial: { bbox: extent.bbox ? [extent.bbox] : [], crs: CRS84 },
        ...(extent.interval
          ? {
              temporal: {
                interval: [extent.interval],
                trs: 'http://www.opengis.net/def/uom/ISO-8601/0/Gregorian',
              },
            }
          : {}),
      },
      crs: [...SUPPORTED_CRS],
      storageCrs: EPSG_4490,
      links,
    };
  }

  function visibleCollections(ctx: ReturnType<typeof requestContext>): CollectionAccess[] {
    return listCollections()
      .map((c) => collectionAccess(c, ctx))
      .filter((v): v is CollectionAccess => v !== null);
  }

  function schemaOf(view: CollectionAccess, root: string, kind: 'queryables' | 'sortables') {
    const { collection } = view;
    const properties: Record<string, Record<string, unknown>> = {};
    for (const name of queryableNames(view)) {
      if (name === 'geometry') {
        if (kind === 'queryables') {
          properties.geometry = {
            title: 'Geometry',
            format: `geometry-${collection.geometry.type.toLowerCase()}`,
            'x-ogc-role': 'primary-geometry',
          };
        }
        continue;
      }
      const p = collection.properties[name]!;
      properties[name] = {
        title: p.title ?? name,
        description: p.description ?? collection.fieldEntries[name]!.description,
        ...jsonSchemaType(p.type),
      };
    }
    return {
      $schema: 'https://json-schema.org/draft/2019-09/schema',
      $id: `${root}/collections/${collection.id}/${kind}`,
      type: 'object',
      title: `${collection.title}: ${kind}`,
      properties,
      additionalProperties: false,
    };
  }

  async function handle(request: Request, services: GatewayServices): Promise<Response> {
    if (request.method !== 'GET' && request.method !== 'HEAD')
      throw problems.methodNotAllowed(request.method);
    const url = new URL(request.url);
    const origin = url.origin;
    const root = `${origin}${prefix}`;
    let segments: string[];
    try {
      segments = url.pathname.slice(prefix.length).split('/').filter(Boolean).map(decodeURIComponent);
    } catch {
      throw problems.notFound(url.pathname);
    }
    const params = url.searchParams;
    const context = async () => requestContext(await services.principalOf(request), services);
    const [first, id, sub, featureId, ...extra] = segments;

    if (first === undefined) {
      rejectUnknown(params, ['f']);
      const format = negotiate(request, url, { html: true, json: JSON_TYPE });
      const doc = {
        title,
        description:
          'Spatial layers of the national base registries: administrative divisions and thematic layers, CGCS2000.',
        links: [
          link(root, 'self', JSON_TYPE, 'This document'),
          link(`${root}?f=html`, 'alternate', HTML, 'This document as HTML'),
          link(`${root}/api`, 'service-desc', OPENAPI, 'The API definition (OpenAPI 3.0)'),
          link(`${root}/api?f=html`, 'service-doc', HTML, 'The API documentation'),
          link(`${root}/conformance`, 'conformance', JSON_TYPE, 'Conformance classes implemented'),
          link(`${root}/collections`, 'data', JSON_TYPE, 'Feature collections'),
        ],
      };
      return format === 'html'
        ? respond(html.landingHtml(doc, root), HTML)
        : respond(JSON.stringify(doc), JSON_TYPE);
    }

    if (first === 'conformance' && id === undefined) {
      rejectUnknown(params, ['f']);
      const format = negotiate(request, url, { html: true, json: JSON_TYPE });
      return format === 'html'
        ? respond(html.conformanceHtml(CONFORMANCE_CLASSES, root), HTML)
        : respond(JSON.stringify({ conformsTo: CONFORMANCE_CLASSES }), JSON_TYPE);
    }

    if (first === 'api' && id === undefined) {
      rejectUnknown(params, ['f']);
      const format = negotiate(request, url, { html: true, json: OPENAPI });
      const ctx = await context();
      const doc = openApiDocument(
        root,
        visibleCollections(ctx).map((v) => v.collection.id),
      );
      return format === 'html'
        ? respond(html.apiHtml(doc, root), HTML)
        : respond(JSON.stringify(doc), OPENAPI);
    }

    if (first !== 'collections') throw problems.notFound(url.pathname);

    if (id === undefined) {
      rejectUnknown(params, ['f']);
      const format = negotiate(request, url, { html: true, json: JSON_TYPE });
      const ctx = await context();
      const collections = await Promise.all(
        visibleCollections(ctx).map((v) => collectionDoc(services, v, root, origin)),
      );
      if (format === 'html') return respond(html.collectionsHtml(collections, root), HTML);
      const doc = {
        links: [
          link(`${root}/collections`, 'self', JSON_TYPE, 'This document'),
          link(`${root}/collections?f=html`, 'alternate', HTML, 'This document as HTML'),
        ],
        crs: [...SUPPORTED_CRS],
        collections,
      };
      return respond(JSON.stringify(doc), JSON_TYPE);
    }

    const ctx = await context();
    const view = await resolveLiveCollection(id, ctx, services.db);
    const { collection } = view;

    if (sub === undefined) {
      rejectUnknown(params, ['f']);
      const format = negotiate(request, url, { html: true, json: JSON_TYPE });
      const doc = await collectionDoc(services, view, root, origin);
      return format === 'html'
        ? respond(html.collectionHtml(doc, root), HTML)
        : respond(JSON.stringify(doc), JSON_TYPE);
    }

    if ((sub === 'queryables' || sub === 'sortables') && featureId === undefined) {
      rejectUnknown(params, ['f']);
      const format = negotiate(request, url, { html: true, json: SCHEMA });
      const schema = schemaOf(view, root, sub);
      return format === 'html'
        ? respond(html.schemaHtml(schema.title, schema, root, collection.id), HTML)
        : respond(JSON.stringify(schema), SCHEMA);
    }

    if (sub !== 'items' || extra.length > 0) throw problems.notFound(url.pathname);

    if (featureId !== undefined) {
      rejectUnknown(params, ITEM_PARAMETERS);
      const format = negotiate(request, url, { html: true, json: GEOJSON });
      const crs = parseCrs(single(params, 'crs'), 'crs');
      const properties = parseProperties(
        single(params, 'properties'),
        new Set(Object.keys(collection.properties)),
      );
      const found = await queryItem(services.db, view, featureId, crs, properties);
      if (!found) throw problems.featureNotFound(collection.id, featureId);
      await auditAccess(services, view, 'ogc', `${url.pathname}${url.search}`, 1, found.served);
      const base = `${root}/collections/${collection.id}`;
      const self = `${base}/items/${encodeURIComponent(featureId)}`;
      const links = [
        link(withParams(self, params), 'self', GEOJSON, 'This feature'),
        link(`${self}?f=html`, 'alternate', HTML, 'This feature as HTML'),
        link(base, 'collection', JSON_TYPE, 'The collection'),
      ];
      if (format === 'html') {
        return respond(
          html.itemHtml(
            collection,
            { ...found.feature, geometryType: geometryType(found.feature.geometryJson) },
            root,
          ),
          HTML,
        );
      }
      return respond(featureJson(found.feature, links), GEOJSON, 200, { 'content-crs': `<${crs}>` });
    }

    // /collections/{id}/items
    rejectUnknown(params, ITEMS_PARAMETERS);
    const format = negotiate(request, url, { html: true, json: GEOJSON });
    const crs = parseCrs(single(params, 'crs'), 'crs');
    const bbox = parseBbox(single(params, 'bbox'), parseCrs(single(params, 'bbox-crs'), 'bbox-crs'));
    const datetime = parseDatetime(single(params, 'datetime'));
    const limit = parseLimit(single(params, 'limit'));
    const offset = parseOffset(single(params, 'offset'));
    const names = new Set(Object.keys(collection.properties));
    const properties = parseProperties(single(params, 'properties'), names);
    const sortbyText = single(params, 'sortby');
    const sortable = new Set([...names].filter((n) => collection.properties[n]!.queryable !== false));
    const sortby = sortbyText === null ? null : parseSortby(sortbyText, sortable);
    const filterLang = single(params, 'filter-lang');
    if (filterLang !== null && filterLang !== 'cql2-text') {
      throw problems.badParameter('filter-lang', `'${filterLang}' is not supported; use cql2-text`);
    }
    const filterText = single(params, 'filter');
    const filterCrs = parseCrs(single(params, 'filter-crs'), 'filter-crs');
    const filter = filterText === null ? null : parseCql2(filterText);
    const result = await queryItems(services.db, view, {
      bbox,
      datetime,
      filter,
      filterLatLon: isLatLon(filterCrs),
      sortby,
      limit,
      offset,
      properties,
      crs,
    });
    await auditAccess(
      services,
      view,
      'ogc',
      `${url.pathname}${url.search}`,
      result.features.length,
      result.served,
    );

    const base = `${root}/collections/${collection.id}/items`;
    const jsonParams = new URLSearchParams(params);
    if (jsonParams.get('f') === 'html') jsonParams.delete('f');
    const pageAt = (at: number) => {
      const p = new URLSearchParams(jsonParams);
      p.set('offset', String(at));
      p.set('limit', String(limit));
      return withParams(base, p);
    };
    const links: Link[] = [link(withParams(base, jsonParams), 'self', GEOJSON, 'This page')];
    const htmlParams = new URLSearchParams(jsonParams);
    htmlParams.set('f', 'html');
    links.push(link(withParams(base, htmlParams), 'alternate', HTML, 'This page as HTML'));
    if (offset + result.features.length < result.numberMatched && result.features.length > 0) {
      links.push(link(pageAt(offset + limit), 'next', GEOJSON, 'Next page'));
    }
    if (offset > 0) links.push(link(pageAt(Math.max(0, offset - limit)), 'prev', GEOJSON, 'Previous page'));
    links.push(link(`${root}/collections/${collection.id}`, 'collection', JSON_TYPE, 'The collection'));

    if (format === 'html') {
      const features = result.features.map((f: FeatureOut) => ({
        ...f,
        geometryType: geometryType(f.geometryJson),
      }));
      return respond(
        html.itemsHtml(collection, features, { numberMatched: result.numberMatched, offset, links }, root),
        HTML,
      );
    }
    const body = `{"type":"FeatureCollection","numberMatched":${result.numberMatched},"numberReturned":${result.features.length},"timeStamp":${JSON.stringify(new Date().toISOString())},"links":${JSON.stringify(links)},"features":[${result.features.map((f) => featureJson(f)).join(',')}]}`;
    return respond(body, GEOJSON, 200, { 'content-crs': `<${crs}>` });
  }

  return {
    prefix,
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
