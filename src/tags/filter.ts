import { type SQL, sql } from 'drizzle-orm';
import type { TagRegistry } from '../../schema/tags.ts';
import type { RequestAccess } from '../access/request-access.ts';
import { errors } from '../errors.ts';
import { builder } from '../gateway/builder.ts';
import { requireTagClear } from './access.ts';
import { tagByCode } from './definitions.ts';

/**
 * `tags: { any, all, none }` on the list queries (persons, entities, features): records carrying any of,
 * all of, or none of the named tags (current assignments). A filter reveals who carries a tag, so every
 * named tag needs the right to read it in clear (else FORBIDDEN_FILTER / PURPOSE_REQUIRED, like a field).
 */
export const TagFilter = builder.inputType('TagFilter', {
  description:
    'Records by their current tags (codes from the `tags` query); each tag must be readable in clear',
  fields: (t) => ({
    any: t.stringList({ description: 'Carrying at least one of these tags' }),
    all: t.stringList({ description: 'Carrying every one of these tags' }),
    none: t.stringList({ description: 'Carrying none of these tags' }),
  }),
});

export interface TagFilterValue {
  any?: readonly string[] | null;
  all?: readonly string[] | null;
  none?: readonly string[] | null;
}

const MAX_TAGS = 20;

/** SQL conditions over `alias.id` for a tag filter; validates and authorises every named tag. */
export function tagConditions(
  access: RequestAccess,
  registry: TagRegistry,
  filter: TagFilterValue | null | undefined,
  alias: string,
  argument = 'tags',
): SQL[] {
  if (!filter) return [];
  const id = sql.raw(`${alias}.id`);
  const conditions: SQL[] = [];
  for (const mode of ['any', 'all', 'none'] as const) {
    const codes = [...new Set(filter[mode] ?? [])];
    if (codes.length === 0) continue;
    const path = `${argument}.${mode}`;
    if (codes.length > MAX_TAGS) throw errors.invalidArgument(path, `names more than ${MAX_TAGS} tags`);
    for (const code of codes) {
      const tag = tagByCode(code);
      if (!tag) throw errors.invalidArgument(path, `names '${code}', which is not a tag`);
      if (tag.registry !== registry)
        throw errors.invalidArgument(
          path,
          `names '${code}', a tag of ${tag.registry} records, not ${registry}`,
        );
      requireTagClear(access, tag, path, 'filter');
    }
    const current = (codes: string[]) =>
      sql`SELECT 1 FROM tag_assignments ta WHERE ta.tag_code = ANY(${sql.param(codes)}::text[])
             AND ta.record_id = ${id} AND ta.valid_to IS NULL`;
    if (mode === 'any') conditions.push(sql`EXISTS (${current(codes)})`);
    if (mode === 'none') conditions.push(sql`NOT EXISTS (${current(codes)})`);
    if (mode === 'all') for (const code of codes) conditions.push(sql`EXISTS (${current([code])})`);
  }
  return conditions;
}
