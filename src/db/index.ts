export * from './database.ts';
export * from './geojson.ts';
export { geometry, STORAGE_SRID } from './geometry-column.ts';
export { migrate } from './migrate.ts';
export { groupByKey, rows } from './sql.ts';
