import { sql } from 'drizzle-orm';
import { parseDivisionCode } from '../../codes/index.ts';
import { groupByKey, rows } from '../../db/index.ts';
import { errors } from '../../errors.ts';
import type { GatewayContext } from '../../gateway/context.ts';

export interface DivisionRow {
  code: string;
  name: string;
  level: 'province' | 'city' | 'county' | 'town';
  parentCode: string | null;
  codeSystem: string;
  prefix: string;
  validFrom: string | null;
  validTo: string | null;
  updatedAt: Date;
  sourceDept: string;
  sourceBatch: string | null;
}

const DIVISION_COLUMNS =
  sql.raw(`code, name, level, parent_code AS "parentCode", code_system AS "codeSystem", prefix,
  valid_from AS "validFrom", valid_to AS "validTo", updated_at AS "updatedAt", source_dept AS "sourceDept",
  source_batch AS "sourceBatch"`);

/** The exported way into divisions for every registry: by code, children, boundaries — all batched. */
export function divisionByCode(ctx: GatewayContext) {
  return ctx.loaders.get<string, DivisionRow | null>('division.byCode', async (codes) => {
    const found = await rows<DivisionRow>(
      ctx.db,
      sql`SELECT ${DIVISION_COLUMNS} FROM divisions WHERE code = ANY(${sql.param([...codes])}::text[])`,
    );
    const byCode = new Map(found.map((d) => [d.code, d]));
    return codes.map((code) => byCode.get(code) ?? null);
  });
}

export function divisionChildren(ctx: GatewayContext) {
  return ctx.loaders.get<string, DivisionRow[]>('division.children', async (codes) => {
    const found = await rows<DivisionRow>(
      ctx.db,
      sql`SELECT ${DIVISION_COLUMNS} FROM divisions WHERE parent_code = ANY(${sql.param([...codes])}::text[]) ORDER BY code`,
    );
    return groupByKey(codes, found, (d) => d.parentCode ?? '');
  });
}

/** Boundaries are large: fetched only when asked, simplified in the database. Key: `code|tolerance°`. */
export function divisionBoundary(ctx: GatewayContext) {
  return ctx.loaders.get<string, unknown>('division.boundary', async (keys) => {
    const tolerance = Number(keys[0]!.split('|')[1]);
    const codes = keys.map((k) => k.split('|')[0]!);
    const found = await rows<{ code: string; geometry: unknown }>(
      ctx.db,
      sql`SELECT code, ST_AsGeoJSON(
                CASE WHEN ${tolerance}::float8 > 0 THEN ST_SimplifyPreserveTopology(boundary, ${tolerance}::float8) ELSE boundary END,
                6, 0)::json AS geometry
            FROM divisions WHERE code = ANY(${sql.param(codes)}::text[]) AND boundary IS NOT NULL`,
    );
    const byCode = new Map(found.map((d) => [d.code, d.geometry]));
    return codes.map((code) => byCode.get(code) ?? null);
  });
}

/**
 * Validates a division code argument: its structure (GB/T 2260) and that the registry knows it.
 * Abolished codes are known too; callers that need a current one check `validTo`.
 */
export async function requireDivision(
  ctx: GatewayContext,
  code: string,
  argument: string,
): Promise<DivisionRow> {
  const parsed = parseDivisionCode(code);
  if (!parsed.ok) throw errors.invalidDivisionCode(argument, code, parsed.message);
  const division = await divisionByCode(ctx).load(parsed.value.code);
  if (!division) throw errors.invalidDivisionCode(argument, code, 'no such division in the registry');
  return division;
}

/** Metres to degrees of latitude, for simplification tolerances given in metres. */
export function metresToDegrees(metres: number): number {
  return metres / 111_320;
}
