/**
 * Compile-time guarantees of the field catalogue, checked by `npm run typecheck`: a table whose
 * catalogue misses a column, or names one that does not exist, does not compile.
 */
import { pgTable, text } from 'drizzle-orm/pg-core';
import { dataset, f } from './catalogue.ts';

const sample = pgTable('sample', { code: text('code'), secret: text('secret') });
const meta = {
  id: 'test.sample',
  name: 'sample',
  description: 'compile-time check only',
  registry: 'governance',
  owner: 'PLATFORM',
  updateFrequency: 'static',
} as const;

export const complete = dataset(sample, meta, { code: f.internal('code'), secret: f.closed('secret') });

// @ts-expect-error — 'secret' has no entry: an unclassified column does not compile.
export const missing = dataset(sample, meta, { code: f.internal('code') });

export const unknown = dataset(sample, meta, {
  code: f.internal('code'),
  secret: f.closed('s'),
  // @ts-expect-error — 'extra' is not a column of the table.
  extra: f.internal('x'),
});
