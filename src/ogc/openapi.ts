import { DEFAULT_LIMIT, MAX_LIMIT, SUPPORTED_CRS } from './query-params.ts';

/**
 * The OpenAPI 3.0 definition (rel=service-desc, conformance class /conf/oas30) of the endpoints in
 * route.ts. Generic paths with a collectionId parameter listing the collections the caller may see.
 */

const problem = { $ref: '#/components/responses/Problem' };

function ok(description: string, types: Record<string, unknown>) {
  return {
    '200': {
      description,
      content: Object.fromEntries(Object.entries(types).map(([t, schema]) => [t, { schema }])),
    },
    '400': problem,
    '404': problem,
    '406': problem,
    '500': problem,
  };
}

const json = { type: 'object' };
const html = { type: 'string' };

export function openApiDocument(root: string, collectionIds: string[]): Record<string, unknown> {
  const p = (name: string) => ({ $ref: `#/components/parameters/${name}` });
  return {
    openapi: '3.0.3',
    info: {
      title: 'govbase OGC API – Features',
      version: '1.0.0',
      description:
        'Spatial layers of the national base registries (CGCS2000). OGC API – Features Part 1 (core), Part 2 ' +
        '(CRS by reference: CRS84 and EPSG:4490) and Part 3 (CQL2 text filters). Access follows the field ' +
        'catalogue: send an API key (Authorization: Bearer …) for non-public data.',
    },
    servers: [{ url: root }],
    paths: {
      '/': {
        get: {
          operationId: 'landingPage',
          summary: 'Landing page',
          parameters: [p('f')],
          responses: ok('Landing page', { 'application/json': json, 'text/html': html }),
        },
      },
      '/conformance': {
        get: {
          operationId: 'conformance',
          summary: 'Conformance classes implemented',
          parameters: [p('f')],
          responses: ok('Conformance declaration', { 'application/json': json, 'text/html': html }),
        },
      },
      '/api': {
        get: {
          operationId: 'api',
          summary: 'This API definition',
          parameters: [p('f')],
          responses: ok('OpenAPI 3.0', {
            'application/vnd.oai.openapi+json;version=3.0': json,
            'text/html': html,
          }),
        },
      },
      '/collections': {
        get: {
          operationId: 'collections',
          summary: 'Feature collections',
          parameters: [p('f')],
          responses: ok('Collections', { 'application/json': json, 'text/html': html }),
        },
      },
      '/collections/{collectionId}': {
        get: {
          operationId: 'collection',
          summary: 'A feature collection',
          parameters: [p('collectionId'), p('f')],
          responses: ok('Collection', { 'application/json': json, 'text/html': html }),
        },
      },
      '/collections/{collectionId}/queryables': {
        get: {
          operationId: 'queryables',
          summary: 'Properties usable in filter= and sortby=',
          parameters: [p('collectionId'), p('f')],
          responses: ok('Queryables (JSON Schema)', { 'application/schema+json': json, 'text/html': html }),
        },
      },
      '/collections/{collectionId}/sortables': {
        get: {
          operationId: 'sortables',
          summary: 'Properties usable in sortby=',
          parameters: [p('collectionId'), p('f')],
          responses: ok('Sortables (JSON Schema)', { 'application/schema+json': json, 'text/html': html }),
        },
      },
      '/collections/{collectionId}/items': {
        get: {
          operationId: 'items',
          summary: 'Features of a collection',
          parameters: [
            p('collectionId'),
            p('f'),
            p('bbox'),
            p('bbox-crs'),
            p('crs'),
            p('datetime'),
            p('limit'),
            p('offset'),
            p('properties'),
            p('sortby'),
            p('filter'),
            p('filter-lang'),
            p('filter-crs'),
          ],
          responses: ok('A GeoJSON FeatureCollection', { 'application/geo+json': json, 'text/html': html }),
        },
      },
      '/collections/{collectionId}/items/{featureId}': {
        get: {
          operationId: 'item',
          summary: 'One feature',
          parameters: [p('collectionId'), p('featureId'), p('f'), p('crs'), p('properties')],
          responses: ok('A GeoJSON Feature', { 'application/geo+json': json, 'text/html': html }),
        },
      },
    },
    components: {
      parameters: {
        collectionId: {
          name: 'collectionId',
          in: 'path',
          required: true,
          schema: { type: 'string', enum: collectionIds },
        },
        featureId: { name: 'featureId', in: 'path', required: true, schema: { type: 'string' } },
        f: {
          name: 'f',
          in: 'query',
          required: false,
          description: 'Output format (overrides Accept)',
          schema: { type: 'string', enum: ['json', 'html'] },
        },
        bbox: {
          name: 'bbox',
          in: 'query',
          required: false,
          style: 'form',
          explode: false,
          description:
            'minLon,minLat,maxLon,maxLat in CRS84 (or in bbox-crs axis order: EPSG:4490 is minLat,minLon,maxLat,maxLon)',
          schema: { type: 'array', minItems: 4, maxItems: 6, items: { type: 'number' } },
        },
        'bbox-crs': {
          name: 'bbox-crs',
          in: 'query',
          required: false,
          schema: { type: 'string', format: 'uri', enum: [...SUPPORTED_CRS], default: SUPPORTED_CRS[0] },
        },
        crs: {
          name: 'crs',
          in: 'query',
          required: false,
          schema: { type: 'string', format: 'uri', enum: [...SUPPORTED_CRS], default: SUPPORTED_CRS[0] },
        },
        'filter-crs': {
          name: 'filter-crs',
          in: 'query',
          required: false,
          schema: { type: 'string', format: 'uri', enum: [...SUPPORTED_CRS], default: SUPPORTED_CRS[0] },
        },
        datetime: {
          name: 'datetime',
          in: 'query',
          required: false,
          description: 'RFC 3339 instant or interval a/b (.. for open)',
          schema: { type: 'string' },
        },
        limit: {
          name: 'limit',
          in: 'query',
          required: false,
          description: `Features per page; above ${MAX_LIMIT} is an error (400), not a clamp`,
          schema: { type: 'integer', minimum: 1, maximum: MAX_LIMIT, default: DEFAULT_LIMIT },
        },
        offset: {
          name: 'offset',
          in: 'query',
          required: false,
          schema: { type: 'integer', minimum: 0, default: 0 },
        },
        properties: {
          name: 'properties',
          in: 'query',
          required: false,
          style: 'form',
          explode: false,
          schema: { type: 'array', items: { type: 'string' } },
        },
        sortby: {
          name: 'sortby',
          in: 'query',
          required: false,
          style: 'form',
          explode: false,
          description: 'e.g. +name,-code (see /sortables)',
          schema: { type: 'array', items: { type: 'string', pattern: '^[+-]?[A-Za-z_][A-Za-z0-9_]*$' } },
        },
        filter: {
          name: 'filter',
          in: 'query',
          required: false,
          description: 'CQL2 text over the queryables',
          schema: { type: 'string' },
        },
        'filter-lang': {
          name: 'filter-lang',
          in: 'query',
          required: false,
          schema: { type: 'string', enum: ['cql2-text'], default: 'cql2-text' },
        },
      },
      responses: {
        Problem: {
          description: 'An error: a stable code and a description naming the offending input',
          content: {
            'application/problem+json': {
              schema: {
                type: 'object',
                required: ['code', 'description'],
                properties: { code: { type: 'string' }, description: { type: 'string' } },
              },
            },
          },
        },
      },
    },
  };
}
