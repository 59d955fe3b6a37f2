/** The data model: every table with its field catalogue, one file per registry. */
export * from './governance.ts';
export * from './population.ts';
export * from './reference.ts';
export * from './spatial.ts';
