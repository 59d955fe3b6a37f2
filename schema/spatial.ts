import { sql } from 'drizzle-orm';
import { date, index, pgTable, text } from 'drizzle-orm/pg-core';
import { geometry } from '../src/db/geometry-column.ts';
import { dataset, f } from './catalogue.ts';
import { provenanceColumns, provenanceFields } from './provenance.ts';

/**
 * GB/T 2260 administrative divisions (plus NBS town codes), current and abolished. Abolished codes keep
 * their validity dates because old ID numbers carry them as address codes.
 */
export const divisions = pgTable(
  'divisions',
  {
    code: text('code').primaryKey(),
    name: text('name').notNull(),
    level: text('level', { enum: ['province', 'city', 'county', 'town'] }).notNull(),
    parentCode: text('parent_code'),
    codeSystem: text('code_system', { enum: ['gbt2260', 'nbs_stat'] }).notNull(),
    /** The code prefix shared by every division below this one (province 2, city 4, county 6, town 9 digits). */
    prefix: text('prefix').notNull(),
    validFrom: date('valid_from'),
    validTo: date('valid_to'),
    boundary: geometry('boundary', 'MultiPolygon'),
    ...provenanceColumns(),
  },
  (t) => [
    index('divisions_parent_idx').on(t.parentCode),
    index('divisions_prefix_idx').on(t.prefix),
    index('divisions_boundary_gix').using('gist', t.boundary),
    index('divisions_current_level_idx').on(t.level).where(sql`valid_to is null`),
  ],
);

export const divisionsDataset = dataset(
  divisions,
  {
    id: 'spatial.divisions',
    name: '行政区划 Administrative divisions',
    description: 'GB/T 2260 administrative divisions with NBS town codes, boundaries and validity dates',
    registry: 'spatial',
    owner: 'MCA',
    updateFrequency: 'yearly',
  },
  {
    code: f.publicOpen('Division code (GB/T 2260; 9-digit NBS code for towns)'),
    name: f.publicOpen('Division name'),
    level: f.publicOpen('province, city (prefecture), county or town'),
    parentCode: f.publicOpen('Code of the division above'),
    codeSystem: f.publicOpen('gbt2260, or nbs_stat for statistical-only units'),
    prefix: f.publicOpen('Code prefix shared by every division below'),
    validFrom: f.publicOpen('Date from which the code is valid'),
    validTo: f.publicOpen('Date from which the code is no longer valid (abolished or renamed)'),
    boundary: f.publicOpen('Boundary polygon, CGCS2000'),
    ...provenanceFields,
  },
  { current: f.publicOpen('True while the code is valid (no valid_to)') },
);
