import { text, timestamp } from 'drizzle-orm/pg-core';
import { type FieldEntry, f } from './catalogue.ts';

/** Every registry row says when it last changed and which department and batch it came from. */
export const provenanceColumns = () => ({
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  sourceDept: text('source_dept').notNull(),
  sourceBatch: text('source_batch'),
});

export const provenanceFields: Record<'updatedAt' | 'sourceDept' | 'sourceBatch', FieldEntry> = {
  updatedAt: f.meta('When the record last changed'),
  sourceDept: f.meta('Department code of the source that supplied the record'),
  sourceBatch: f.meta('Import batch that last wrote the record'),
};
