import { type SQL, sql } from 'drizzle-orm';
import { LEVELS } from '../../../schema/catalogue.ts';
import { personsDataset, vitalEventsDataset } from '../../../schema/population.ts';
import { rows } from '../../db/index.ts';
import { errors } from '../../errors.ts';
import { builder } from '../../gateway/builder.ts';
import type { GatewayContext } from '../../gateway/context.ts';
import { type DivisionRow, requireDivision } from '../spatial/division-directory.ts';
import { today } from './person-store.ts';
import { VitalEventType } from './person-types.ts';
import { DivisionRole } from './queries.ts';

export interface Cell {
  key: string;
  label: string | null;
  count: number | null;
  suppressed: boolean;
}

/**
 * Small-cell suppression: counts from 1 to threshold−1 are withheld from callers without a
 * 'restricted' grant on persons. When exactly one cell would be withheld, the next smallest goes too, so
 * the total cannot give it away by subtraction.
 */
export function suppress(
  cells: { key: string; label: string | null; count: number }[],
  threshold: number,
  cleared: boolean,
): Cell[] {
  if (cleared) return cells.map((c) => ({ ...c, suppressed: false }));
  const small = new Set(cells.filter((c) => c.count > 0 && c.count < threshold).map((c) => c.key));
  if (small.size === 1) {
    const next = cells.filter((c) => !small.has(c.key) && c.count > 0).sort((a, b) => a.count - b.count)[0];
    if (next) small.add(next.key);
  }
  return cells.map((c) =>
    small.has(c.key) ? { ...c, count: null, suppressed: true } : { ...c, suppressed: false },
  );
}

function clearedForSmallCells(ctx: GatewayContext): boolean {
  return (ctx.access.principal.grants.get(personsDataset.id)?.maxLevel ?? 0) >= LEVELS.restricted;
}

/** A department asks about its own jurisdiction only; national and public callers about any division. */
function requireInScope(ctx: GatewayContext, division: DivisionRow, argument: string): void {
  const scope = ctx.access.principal.scope;
  if (scope && !division.prefix.startsWith(scope.prefix)) {
    throw errors.outOfJurisdiction(`Division '${division.code}' (argument '${argument}')`);
  }
}

const StatisticsGroup = builder.enumType('StatisticsGroup', {
  values: {
    CHILD_DIVISION: { value: 'child' },
    GENDER: { value: 'gender' },
    AGE_BAND: { value: 'age_band', description: 'Five-year bands, 100+ last' },
    ETHNICITY: { value: 'ethnicity' },
  } as const,
});

const StatisticsCellRef = builder.objectRef<Cell>('StatisticsCell');
StatisticsCellRef.implement({
  dataset: personsDataset,
  fields: (t) => ({
    key: t.exposeString('key', { access: { field: 'aggregate' } }),
    label: t.exposeString('label', { access: { field: 'aggregate' } }),
    count: t.exposeInt('count', { access: { field: 'aggregate' }, description: 'null when suppressed' }),
    suppressed: t.exposeBoolean('suppressed', { access: { field: 'aggregate' } }),
  }),
});

interface PopulationStatistics {
  divisionCode: string;
  asOf: string;
  total: number | null;
  cells: Cell[];
}

const PopulationStatisticsRef = builder.objectRef<PopulationStatistics>('PopulationStatistics');
PopulationStatisticsRef.implement({
  dataset: personsDataset,
  fields: (t) => ({
    divisionCode: t.exposeString('divisionCode', { access: { field: 'aggregate' } }),
    asOf: t.expose('asOf', { type: 'Date', access: { field: 'aggregate' } }),
    total: t.exposeInt('total', { access: { field: 'aggregate' } }),
    cells: t.field({ type: [StatisticsCellRef], access: 'link', resolve: (s) => s.cells }),
  }),
});

function groupExpression(group: string, asOf: string): { key: SQL; join: SQL } {
  switch (group) {
    case 'gender':
      return { key: sql`p.gender`, join: sql`` };
    case 'ethnicity':
      return { key: sql`coalesce(p.ethnicity, '')`, join: sql`` };
    case 'age_band':
      return {
        key: sql`lpad(least(100, (date_part('year', age(${asOf}::date, p.birth_date))::int / 5) * 5)::text, 3, '0')`,
        join: sql``,
      };
    default:
      throw new Error(`unknown group ${group}`);
  }
}

builder.queryField('populationStatistics', (t) =>
  t.field({
    type: PopulationStatisticsRef,
    description: 'Persons alive on a date in a division, grouped; small cells suppressed by clearance',
    args: {
      divisionCode: t.arg.string({ required: true }),
      groupBy: t.arg({ type: StatisticsGroup, required: true }),
      asOf: t.arg({ type: 'Date', description: 'Default: today' }),
      by: t.arg({ type: DivisionRole, defaultValue: 'residence' }),
    },
    resolve: async (_root, args, ctx) => {
      const division = await requireDivision(ctx, args.divisionCode, 'divisionCode');
      requireInScope(ctx, division, 'divisionCode');
      const asOf = args.asOf ?? today();
      const hi = division.prefix + '9'.repeat(12 - division.prefix.length);
      // By residence, the residence history gives where each person lived on that date.
      const population =
        args.by === 'hukou'
          ? sql`SELECT p.*, p.hukou_division_code AS division FROM persons p
                 WHERE p.hukou_division_code BETWEEN ${division.prefix} AND ${hi}`
          : sql`SELECT p.*, r.division_code AS division FROM residences r JOIN persons p ON p.id = r.person_id
                 WHERE r.division_code BETWEEN ${division.prefix} AND ${hi}
                   AND r.valid_from <= ${asOf}::date AND (r.valid_to IS NULL OR r.valid_to > ${asOf}::date)`;
      const alive = sql`p.birth_date <= ${asOf}::date AND (p.death_date IS NULL OR p.death_date > ${asOf}::date)`;
      let found: { key: string; label: string | null; count: number }[];
      if (args.groupBy === 'child') {
        found = await rows(
          ctx.db,
          sql`WITH p AS (${population}), kids AS (
                SELECT code, name, prefix, prefix || repeat('9', 12 - length(prefix)) AS hi
                  FROM divisions WHERE parent_code = ${division.code} AND valid_to IS NULL)
              SELECT k.code AS key, k.name AS label, count(p.id)::int AS count
                FROM kids k LEFT JOIN p ON p.division BETWEEN k.prefix AND k.hi AND ${alive}
               GROUP BY k.code, k.name ORDER BY k.code`,
        );
      } else {
        const { key } = groupExpression(args.groupBy, asOf);
        const labels =
          args.groupBy === 'gender' ? 'gender' : args.groupBy === 'ethnicity' ? 'ethnicity' : null;
        found = await rows(
          ctx.db,
          sql`WITH p AS (${population})
              SELECT g.key, c.name AS label, g.count FROM (
                SELECT ${key} AS key, count(*)::int AS count FROM p WHERE ${alive} GROUP BY 1) g
              LEFT JOIN code_lists c ON c.list = ${labels} AND c.code = g.key
              ORDER BY g.key`,
        );
      }
      const cells = suppress(found, ctx.config.suppressionThreshold, clearedForSmallCells(ctx));
      const total = found.reduce((sum, c) => sum + c.count, 0);
      const totalSuppressed =
        !clearedForSmallCells(ctx) && total > 0 && total < ctx.config.suppressionThreshold;
      ctx.access.report.rows.StatisticsCell = (ctx.access.report.rows.StatisticsCell ?? 0) + cells.length;
      return { divisionCode: division.code, asOf, total: totalSuppressed ? null : total, cells };
    },
  }),
);

interface SeriesPoint {
  month: string;
  type: string;
  count: number | null;
  suppressed: boolean;
}

const SeriesPointRef = builder.objectRef<SeriesPoint>('VitalEventSeriesPoint');
SeriesPointRef.implement({
  dataset: vitalEventsDataset,
  fields: (t) => ({
    month: t.exposeString('month', { access: { field: 'aggregate' }, description: 'YYYY-MM' }),
    type: t.field({ type: VitalEventType, access: { field: 'aggregate' }, resolve: (p) => p.type as never }),
    count: t.exposeInt('count', { access: { field: 'aggregate' }, description: 'null when suppressed' }),
    suppressed: t.exposeBoolean('suppressed', { access: { field: 'aggregate' } }),
  }),
});

builder.queryField('vitalEventSeries', (t) =>
  t.field({
    type: [SeriesPointRef],
    description: 'Monthly counts of vital events registered in a division subtree',
    args: {
      divisionCode: t.arg.string({ required: true }),
      from: t.arg({ type: 'Date', required: true }),
      to: t.arg({ type: 'Date', required: true }),
      types: t.arg({ type: [VitalEventType] }),
    },
    resolve: async (_root, args, ctx) => {
      const division = await requireDivision(ctx, args.divisionCode, 'divisionCode');
      requireInScope(ctx, division, 'divisionCode');
      if (args.from > args.to)
        throw errors.invalidArgument('from', `(${args.from}) is after 'to' (${args.to})`);
      const hi = division.prefix + '9'.repeat(12 - division.prefix.length);
      const types = args.types?.length ? args.types : null;
      const found = await rows<{ month: string; type: string; count: number }>(
        ctx.db,
        sql`SELECT to_char(event_date, 'YYYY-MM') AS month, type, count(*)::int AS count
              FROM vital_events
             WHERE division_code BETWEEN ${division.prefix} AND ${hi}
               AND event_date BETWEEN ${args.from}::date AND ${args.to}::date
               ${types ? sql`AND type = ANY(${sql.param(types)}::text[])` : sql``}
             GROUP BY 1, 2 ORDER BY 1, 2`,
      );
      const cleared = clearedForSmallCells(ctx);
      const cells = suppress(
        found.map((f) => ({ key: `${f.month}|${f.type}`, label: null, count: f.count })),
        ctx.config.suppressionThreshold,
        cleared,
      );
      return cells.map((c) => {
        const [month, type] = c.key.split('|') as [string, string];
        return { month, type, count: c.count, suppressed: c.suppressed };
      });
    },
  }),
);
