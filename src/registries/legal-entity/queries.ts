import { type SQL, sql } from 'drizzle-orm';
import { entitiesDataset, entitiesHistoryDataset } from '../../../schema/legal-entity.ts';
import { AttributeFilterInput, attributeConditions } from '../../attributes/filter.ts';
import { parseUscc } from '../../codes/index.ts';
import { rows } from '../../db/index.ts';
import { errors } from '../../errors.ts';
import { builder } from '../../gateway/builder.ts';
import type { GatewayContext } from '../../gateway/context.ts';
import { decodeCursor, encodeCursor, pageSize } from '../../gateway/pagination.ts';
import { TagFilter, tagConditions } from '../../tags/filter.ts';
import { type DivisionRow, requireDivision } from '../spatial/division-directory.ts';
import { ENTITY_COLUMNS, type EntityRow, entityByUscc, entityScope, subtreeEnd } from './entity-store.ts';
import {
  AssetBandEnum,
  EntityRef,
  EntityStatusEnum,
  LegalFormEnum,
  ParentRelationEnum,
} from './entity-types.ts';
import { entityAsOf } from './history.ts';

/** Parses a USCC argument or throws INVALID_USCC naming it; pilot-era codes pass (they are flagged). */
export function requireUscc(value: string, argument: string): string {
  const parsed = parseUscc(value);
  if (!parsed.ok) throw errors.invalidUscc(argument, value, parsed.message);
  return parsed.value.uscc;
}

/**
 * A division argument within the caller's jurisdiction: a subtree inside it, or one containing it (then
 * the jurisdiction narrows the result). A division wholly outside is OUT_OF_JURISDICTION.
 */
export async function requireDivisionInScope(
  ctx: GatewayContext,
  code: string,
  argument: string,
): Promise<DivisionRow> {
  const division = await requireDivision(ctx, code, argument);
  const scope = ctx.access.principal.scope;
  if (scope && !division.prefix.startsWith(scope.prefix) && !scope.prefix.startsWith(division.prefix)) {
    throw errors.outOfJurisdiction(`Division '${division.code}' (argument '${argument}')`);
  }
  return division;
}

builder.queryField('entity', (t) =>
  t.field({
    type: EntityRef,
    nullable: true,
    description:
      'A legal entity by its unified social credit code. A malformed code or a wrong check character is ' +
      'INVALID_USCC; an early pilot code whose embedded organisation code fails its own check is accepted.',
    args: {
      uscc: t.arg.string({ required: true }),
      asOf: t.arg({
        type: 'DateTime',
        description:
          'A past instant: the entity as the registry recorded it then (needs a grant on legal_entity.entities_history)',
      }),
    },
    requiresDataset: entitiesDataset,
    resolve: async (_root, args, ctx) => {
      const uscc = requireUscc(args.uscc, 'uscc');
      if (args.asOf) ctx.access.requireDataset(entitiesHistoryDataset);
      const entity = args.asOf ? await entityAsOf(ctx, uscc, args.asOf) : await entityByUscc(ctx).load(uscc);
      if (!entity) return null;
      const scope = ctx.access.principal.scope;
      if (scope && !(entity.divisionCode >= scope.lo && entity.divisionCode <= scope.hi)) {
        throw errors.outOfJurisdiction(`The entity with USCC argument 'uscc'`);
      }
      return entity;
    },
  }),
);

const EntityFilter = builder.inputType('EntityFilter', {
  fields: (t) => ({
    industry: t.string({
      description: 'GB/T 4754-2017 code or prefix: a section (I), division (I65) or class (I6513)',
    }),
    legalForm: t.field({ type: [LegalFormEnum] }),
    registrationDept: t.string({ description: 'USCC position 1' }),
    category: t.string({ description: 'USCC position 2 (with registrationDept)' }),
    status: t.field({ type: [EntityStatusEnum] }),
    establishedFrom: t.field({ type: 'Date' }),
    establishedTo: t.field({ type: 'Date' }),
    assetBand: t.field({ type: [AssetBandEnum] }),
    parentRelation: t.field({
      type: ParentRelationEnum,
      description: 'Only branches, or only subordinate units',
    }),
  }),
});

interface EntityFilterArgs {
  industry?: string | null;
  legalForm?: readonly string[] | null;
  registrationDept?: string | null;
  category?: string | null;
  status?: readonly string[] | null;
  establishedFrom?: string | null;
  establishedTo?: string | null;
  assetBand?: readonly string[] | null;
  parentRelation?: string | null;
}

function filterConditions(f: EntityFilterArgs | null | undefined): SQL[] {
  const conditions: SQL[] = [];
  if (!f) return conditions;
  if (f.industry) {
    if (!/^[A-T]\d{0,4}$/.test(f.industry)) {
      throw errors.invalidArgument(
        'filter.industry',
        'must be a GB/T 4754 section letter A-T and up to 4 digits',
      );
    }
    conditions.push(sql`e.industry_code LIKE ${`${f.industry}%`}`);
  }
  if (f.legalForm?.length) conditions.push(sql`e.legal_form = ANY(${sql.param([...f.legalForm])}::text[])`);
  if (f.registrationDept) conditions.push(sql`e.registration_dept = ${f.registrationDept}`);
  if (f.category) conditions.push(sql`e.category = ${f.category}`);
  if (f.status?.length) conditions.push(sql`e.status = ANY(${sql.param([...f.status])}::text[])`);
  if (f.establishedFrom) conditions.push(sql`e.established_on >= ${f.establishedFrom}::date`);
  if (f.establishedTo) conditions.push(sql`e.established_on <= ${f.establishedTo}::date`);
  if (f.establishedFrom && f.establishedTo && f.establishedFrom > f.establishedTo) {
    throw errors.invalidArgument('filter.establishedFrom', `(${f.establishedFrom}) is after establishedTo`);
  }
  if (f.assetBand?.length) conditions.push(sql`e.asset_band = ANY(${sql.param([...f.assetBand])}::text[])`);
  if (f.parentRelation) conditions.push(sql`e.parent_relation = ${f.parentRelation}`);
  return conditions;
}

const countedConnection = {
  fields: (c: any) => ({
    totalCount: c.int({
      description: 'How many entities match, across all pages',
      resolve: (connection: unknown) => (connection as { totalCount: () => Promise<number> }).totalCount(),
    }),
  }),
};

function lazyCount(ctx: GatewayContext, query: SQL): () => Promise<number> {
  let total: Promise<number> | undefined;
  return () => {
    total ??= rows<{ n: number }>(ctx.db, query).then((r) => Number(r[0]?.n ?? 0));
    return total;
  };
}

builder.queryField('entities', (t) =>
  t.connection(
    {
      type: EntityRef,
      description: 'Entities registered in a division subtree (default: the caller’s jurisdiction), filtered',
      args: {
        divisionCode: t.arg.string({ description: 'Registered division subtree' }),
        filter: t.arg({ type: EntityFilter }),
        tags: t.arg({ type: TagFilter, description: 'By current tags (any / all / none)' }),
        attributeFilter: t.arg({
          type: [AttributeFilterInput],
          description: 'By current attribute values (fields on demand)',
        }),
      },
      requiresDataset: entitiesDataset,
      filters: {
        'filter.industry': { dataset: entitiesDataset, field: 'industryCode' },
        'filter.legalForm': { dataset: entitiesDataset, field: 'legalForm' },
        'filter.registrationDept': { dataset: entitiesDataset, field: 'registrationDept' },
        'filter.category': { dataset: entitiesDataset, field: 'category' },
        'filter.status': { dataset: entitiesDataset, field: 'status' },
        'filter.establishedFrom': { dataset: entitiesDataset, field: 'establishedOn' },
        'filter.establishedTo': { dataset: entitiesDataset, field: 'establishedOn' },
        'filter.assetBand': { dataset: entitiesDataset, field: 'assetBand' },
        'filter.parentRelation': { dataset: entitiesDataset, field: 'parentRelation' },
      },
      resolve: async (_root, args, ctx) => {
        const first = pageSize(args, ctx.config.maxPageSize);
        const afterId = args.after ? decodeCursor(args.after, 'after', 'e') : 0;
        const conditions: SQL[] = [
          entityScope(ctx.access.principal.scope),
          ...filterConditions(args.filter),
          ...tagConditions(ctx.access, 'entity', args.tags, 'e'),
          ...(await attributeConditions(ctx, 'entity', args.attributeFilter, 'e')),
        ];
        if (args.divisionCode) {
          const division = await requireDivisionInScope(ctx, args.divisionCode, 'divisionCode');
          conditions.push(sql`e.division_code BETWEEN ${division.prefix} AND ${subtreeEnd(division.prefix)}`);
        }
        const where = sql.join(conditions, sql` AND `);
        const page = await rows<EntityRow>(
          ctx.db,
          sql`SELECT ${ENTITY_COLUMNS} FROM entities e WHERE ${where} AND e.id > ${afterId}
              ORDER BY e.id LIMIT ${first + 1}`,
        );
        const hasNextPage = page.length > first;
        const nodes = hasNextPage ? page.slice(0, first) : page;
        return {
          edges: nodes.map((node) => ({ cursor: encodeCursor('e', Number(node.id)), node })),
          pageInfo: {
            hasNextPage,
            hasPreviousPage: afterId > 0,
            startCursor: nodes[0] ? encodeCursor('e', Number(nodes[0].id)) : null,
            endCursor: nodes.at(-1) ? encodeCursor('e', Number(nodes.at(-1)!.id)) : null,
          },
          totalCount: lazyCount(ctx, sql`SELECT count(*)::int AS n FROM entities e WHERE ${where}`),
        };
      },
    },
    countedConnection,
  ),
);

/** Escapes LIKE wildcards so a search term matches literally. */
function likeLiteral(value: string): string {
  return value.replace(/[\\%_]/g, (c) => `\\${c}`);
}

builder.queryField('searchEntities', (t) =>
  t.connection(
    {
      type: EntityRef,
      description:
        'Entities by current or former name, ranked: names containing the text first (shorter, closer names ' +
        'higher), then names similar to it by trigrams (pg_trgm), which tolerates a wrong character',
      args: {
        name: t.arg.string({ required: true, description: 'At least 2 characters' }),
        divisionCode: t.arg.string({ description: 'Registered division subtree' }),
        status: t.arg({ type: [EntityStatusEnum] }),
      },
      requiresDataset: entitiesDataset,
      filters: { status: { dataset: entitiesDataset, field: 'status' } },
      resolve: async (_root, args, ctx) => {
        const first = pageSize(args, ctx.config.maxPageSize);
        const offset = args.after ? decodeCursor(args.after, 'after', 'es') : 0;
        const text = args.name.trim();
        if ([...text].length < 2) throw errors.invalidArgument('name', 'must have at least 2 characters');
        if (text.length > 100) throw errors.invalidArgument('name', 'must have at most 100 characters');
        const conditions: SQL[] = [entityScope(ctx.access.principal.scope)];
        if (args.divisionCode) {
          const division = await requireDivisionInScope(ctx, args.divisionCode, 'divisionCode');
          conditions.push(sql`e.division_code BETWEEN ${division.prefix} AND ${subtreeEnd(division.prefix)}`);
        }
        if (args.status?.length) conditions.push(sql`e.status = ANY(${sql.param([...args.status])}::text[])`);
        const where = sql.join(conditions, sql` AND `);
        const pattern = `%${likeLiteral(text)}%`;
        // A substring hit scores 1 + similarity, a trigram-only hit its similarity; a former name counts 0.9×.
        const hits = sql`
          WITH hits AS (
            SELECT id, (CASE WHEN name LIKE ${pattern} THEN 1 ELSE 0 END) + similarity(name, ${text}) AS score
              FROM entities WHERE name LIKE ${pattern} OR name % ${text}
            UNION ALL
            SELECT entity_id, 0.9 * ((CASE WHEN name LIKE ${pattern} THEN 1 ELSE 0 END) + similarity(name, ${text}))
              FROM entity_former_names WHERE name LIKE ${pattern} OR name % ${text}
          ), best AS (SELECT id, max(score) AS score FROM hits GROUP BY id)`;
        const page = await rows<EntityRow & { score: number }>(
          ctx.db,
          sql`${hits}
              SELECT ${ENTITY_COLUMNS}, b.score FROM best b JOIN entities e ON e.id = b.id
               WHERE ${where}
               ORDER BY b.score DESC, e.id LIMIT ${first + 1} OFFSET ${offset}`,
        );
        const hasNextPage = page.length > first;
        const nodes = hasNextPage ? page.slice(0, first) : page;
        return {
          edges: nodes.map((node, i) => ({
            cursor: encodeCursor('es', offset + i + 1),
            node,
            score: Number(node.score),
          })),
          pageInfo: {
            hasNextPage,
            hasPreviousPage: offset > 0,
            startCursor: nodes.length ? encodeCursor('es', offset + 1) : null,
            endCursor: nodes.length ? encodeCursor('es', offset + nodes.length) : null,
          },
          totalCount: lazyCount(
            ctx,
            sql`${hits} SELECT count(*)::int AS n FROM best b JOIN entities e ON e.id = b.id WHERE ${where}`,
          ),
        };
      },
    },
    countedConnection,
    {
      fields: (e) => ({
        score: e.float({
          description:
            'Relevance: 1 + trigram similarity for a name containing the text, else the similarity',
          resolve: (edge) => (edge as unknown as { score: number }).score,
        }),
      }),
    },
  ),
);
