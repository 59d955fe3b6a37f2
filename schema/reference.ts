import { pgTable, primaryKey, text } from 'drizzle-orm/pg-core';
import { dataset, f } from './catalogue.ts';

/** National standard code lists (GB/T 3304 ethnic groups, GB/T 2261 gender and marital status, …). */
export const codeLists = pgTable(
  'code_lists',
  {
    list: text('list').notNull(),
    code: text('code').notNull(),
    name: text('name').notNull(),
    nameEn: text('name_en'),
    standard: text('standard').notNull(),
  },
  (t) => [primaryKey({ columns: [t.list, t.code] })],
);

export const codeListsDataset = dataset(
  codeLists,
  {
    id: 'reference.code_lists',
    name: '标准代码 Code lists',
    description: 'National standard code lists used by the registries',
    registry: 'spatial',
    owner: 'SAMR',
    updateFrequency: 'static',
  },
  {
    list: f.publicOpen('Code list id, e.g. ethnicity'),
    code: f.publicOpen('Code'),
    name: f.publicOpen('Chinese name'),
    nameEn: f.publicOpen('English name or romanisation'),
    standard: f.publicOpen('Standard that defines the list'),
  },
);
