/** Open data: the public-level datasets, their CSV / GeoJSON export with a manifest, and the /open route. */
export * from './datasets.ts';
export * from './export.ts';
export { type OpenRouteOptions, openDataRoute, openParameters } from './route.ts';
