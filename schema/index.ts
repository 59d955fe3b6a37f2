/** The data model: every table with its field catalogue, one file per registry. */

export * from './attributes.ts';
export * from './change-log.ts';
export * from './geospatial.ts';
export * from './governance.ts';
export * from './imports.ts';
export * from './keys.ts';
export * from './legal-entity.ts';
export * from './population.ts';
export * from './quality.ts';
export * from './reference.ts';
export * from './spatial.ts';
export * from './tags.ts';
