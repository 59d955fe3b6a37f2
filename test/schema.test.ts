import { readFileSync } from 'node:fs';
import { getTableColumns } from 'drizzle-orm';
import { printSchema } from 'graphql';
import { describe, expect, it } from 'vitest';
import { DATASETS } from '../schema/datasets.ts';
import { buildSchema } from '../src/gateway/schema.ts';

describe('the GraphQL contract', () => {
  it('matches the committed schema/schema.graphql (run npm run schema:print after a change)', () => {
    const committed = readFileSync(new URL('../schema/schema.graphql', import.meta.url), 'utf8');
    expect(`${printSchema(buildSchema())}\n`).toBe(committed);
  });
});

describe('the field catalogue', () => {
  it('classifies every column of every table exactly once, and every dataset id is unique', () => {
    const ids = new Set<string>();
    for (const dataset of DATASETS) {
      expect(ids.has(dataset.id), dataset.id).toBe(false);
      ids.add(dataset.id);
      const columns = Object.keys(getTableColumns(dataset.table));
      expect(columns.length, dataset.id).toBeGreaterThan(0);
      expect(Object.keys(dataset.fields).sort(), dataset.id).toEqual(columns.sort());
      for (const [field, entry] of Object.entries(dataset.fields)) {
        if (entry.open) expect(entry.level, `${dataset.id}.${field} is open but not public`).toBe('public');
        if (entry.mask !== 'none') expect(entry.level, `${dataset.id}.${field}`).not.toBe('public');
      }
    }
  });
});
