import { sql } from 'drizzle-orm';
import { personsDataset } from '../../../schema/population.ts';
import { rows } from '../../db/index.ts';
import { builder } from '../../gateway/builder.ts';
import { decodeCursor, encodeCursor, pageSize } from '../../gateway/pagination.ts';
import { PERSON_COLUMNS, type PersonRow, personScope } from '../population/person-store.ts';
import { PersonRef } from '../population/person-types.ts';
import { requireGeometry } from './geometry-input.ts';

/**
 * Persons whose residence point lies in an area. The filter reveals where a person lives, so the caller
 * needs the clear right to `residencePoint` (sensitive: a grant at level 4 and an approved purpose).
 */
builder.queryField('personsWithin', (t) =>
  t.connection({
    type: PersonRef,
    description: 'Persons whose residence point lies inside `area` (GeoJSON, CGCS2000), within jurisdiction',
    args: { area: t.arg({ type: 'GeoJSON', required: true }) },
    requiresDataset: personsDataset,
    filters: { area: { dataset: personsDataset, field: 'residencePoint' } },
    resolve: async (_root, args, ctx) => {
      const first = pageSize(args, ctx.config.maxPageSize);
      const afterId = args.after ? decodeCursor(args.after, 'after', 'p') : 0;
      const area = await requireGeometry(ctx, args.area, 'area');
      const page = await rows<PersonRow>(
        ctx.db,
        sql`SELECT ${PERSON_COLUMNS} FROM persons p
             WHERE p.residence_point && ${area} AND ST_Intersects(${area}, p.residence_point)
               AND ${personScope(ctx.access.principal.scope)} AND p.id > ${afterId}
             ORDER BY p.id LIMIT ${first + 1}`,
      );
      const hasNextPage = page.length > first;
      const nodes = page.slice(0, first);
      return {
        edges: nodes.map((node) => ({ cursor: encodeCursor('p', Number(node.id)), node })),
        pageInfo: {
          hasNextPage,
          hasPreviousPage: afterId > 0,
          startCursor: nodes[0] ? encodeCursor('p', Number(nodes[0].id)) : null,
          endCursor: nodes.at(-1) ? encodeCursor('p', Number(nodes.at(-1)!.id)) : null,
        },
      };
    },
  }),
);
