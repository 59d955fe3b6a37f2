import { type SQL, sql } from 'drizzle-orm';
import type { AttributeRecordType } from '../../schema/attributes.ts';
import { errors } from '../errors.ts';
import { builder } from '../gateway/builder.ts';
import type { GatewayContext } from '../gateway/context.ts';
import { requireAttributeClear } from './access.ts';
import { type AttributeDefinition, attributeErrors, currentDefinitions } from './definitions.ts';

/**
 * `attributeFilter: [{ code, eq, in, gt, gte, lt, lte, isNull }]` on the persons, entities and features
 * lists, and the request's view of the current definitions. Kept apart from the object fields
 * (graphql.ts) so the registries' list queries can import it without a module cycle.
 */

// ---------------------------------------------------------------------------------------------------------
// Definitions, once per request

export function requestDefinitions(ctx: GatewayContext): Promise<Map<string, AttributeDefinition>> {
  return ctx.loaders
    .get<string, Map<string, AttributeDefinition>>('attributes.definitions', async (keys) => {
      const all = await currentDefinitions(ctx.db);
      const map = new Map(all.map((d) => [`${d.recordType}:${d.code}`, d]));
      return keys.map(() => map);
    })
    .load('all');
}

export async function definitionFor(
  ctx: GatewayContext,
  recordType: AttributeRecordType,
  code: string,
  argument: string,
): Promise<AttributeDefinition> {
  const def = (await requestDefinitions(ctx)).get(`${recordType}:${code}`);
  if (!def) throw attributeErrors.unknown(code, recordType, argument);
  return def;
}

// ---------------------------------------------------------------------------------------------------------
// Filters

export const AttributeFilterInput = builder.inputType('AttributeFilter', {
  description:
    'Records by the current value of an attribute; the attribute must be readable in clear. Values are given ' +
    'as text and read in the attribute’s data type (dates YYYY-MM-DD, booleans true/false)',
  fields: (t) => ({
    code: t.string({ required: true }),
    eq: t.string(),
    in: t.stringList(),
    gt: t.string(),
    gte: t.string(),
    lt: t.string(),
    lte: t.string(),
    isNull: t.boolean({ description: 'true: records without a current value; false: with one' }),
  }),
});

export interface AttributeFilterValue {
  code: string;
  eq?: string | null;
  in?: readonly string[] | null;
  gt?: string | null;
  gte?: string | null;
  lt?: string | null;
  lte?: string | null;
  isNull?: boolean | null;
}

const MAX_FILTERS = 10;
const COLUMN = {
  text: 'value_text',
  code: 'value_text',
  integer: 'value_int',
  decimal: 'value_num',
  date: 'value_date',
  boolean: 'value_bool',
} as const;
const CAST = {
  text: 'text',
  code: 'text',
  integer: 'int8',
  decimal: 'numeric',
  date: 'date',
  boolean: 'boolean',
};

/** A filter operand read in the attribute's type, else INVALID_ATTRIBUTE_VALUE naming the argument. */
export function operand(def: AttributeDefinition, value: string, argument: string): string | boolean {
  const t = value.trim();
  const bad = (what: string) =>
    attributeErrors.invalidValue(def.code, argument, `('${value}') is not ${what}`);
  switch (def.dataType) {
    case 'integer':
      if (!/^[+-]?\d{1,18}$/.test(t)) throw bad('an integer');
      return t;
    case 'decimal':
      if (!/^[+-]?(\d+(\.\d*)?|\.\d+)$/.test(t)) throw bad('a decimal number');
      return t;
    case 'date':
      if (!/^\d{4}-\d{2}-\d{2}$/.test(t) || Number.isNaN(Date.parse(`${t}T00:00:00Z`))) throw bad('a date');
      return t;
    case 'boolean':
      if (!/^(true|false)$/i.test(t)) throw bad('true or false');
      return t.toLowerCase() === 'true';
    default:
      return value;
  }
}

/**
 * SQL conditions over `alias.id` for attribute filters; validates and authorises every named attribute. Each
 * condition is a semi-join on the current value, which the per-type partial indexes (record type, code,
 * value) or the (record type, code, record) key answer as index probes.
 */
export async function attributeConditions(
  ctx: GatewayContext,
  recordType: AttributeRecordType,
  filters: readonly AttributeFilterValue[] | null | undefined,
  alias: string,
  argument = 'attributeFilter',
): Promise<SQL[]> {
  if (!filters || filters.length === 0) return [];
  if (filters.length > MAX_FILTERS)
    throw errors.invalidArgument(argument, `names more than ${MAX_FILTERS} attribute filters`);
  const id = sql.raw(`${alias}.id`);
  const conditions: SQL[] = [];
  for (const [i, f] of filters.entries()) {
    const path = `${argument}[${i}]`;
    const def = await definitionFor(ctx, recordType, f.code, `${path}.code`);
    requireAttributeClear(ctx.access, def, `${path}.code`, 'filter');
    const base = sql`FROM attribute_values av WHERE av.record_type = ${recordType} AND av.code = ${def.code}
                       AND av.record_id = ${id} AND av.valid_to IS NULL`;
    if (f.isNull === true) conditions.push(sql`NOT EXISTS (SELECT 1 ${base})`);
    const tests: SQL[] = [];
    const ops = [
      ['eq', '='],
      ['gt', '>'],
      ['gte', '>='],
      ['lt', '<'],
      ['lte', '<='],
    ] as const;
    const used = ops.filter(([name]) => f[name] !== null && f[name] !== undefined);
    if ((used.length > 0 || f.in) && def.dataType === 'geometry')
      throw errors.invalidArgument(
        `${path}`,
        `compares values of '${def.code}', a geometry attribute (only isNull)`,
      );
    if ((used.length > 0 || f.in) && f.isNull === true)
      throw errors.invalidArgument(`${path}.isNull`, 'cannot be combined with a comparison');
    const type = def.dataType as keyof typeof COLUMN;
    const column = sql.raw(`av.${COLUMN[type]}`);
    const cast = sql.raw(CAST[type]);
    for (const [name, op] of used) {
      if ((type === 'boolean' || type === 'code') && name !== 'eq')
        throw errors.invalidArgument(
          `${path}.${name}`,
          `does not apply to ${type} attributes (use eq or in)`,
        );
      const value = operand(def, f[name] as string, `${path}.${name}`);
      tests.push(sql`${column} ${sql.raw(op)} ${String(value)}::${cast}`);
    }
    if (f.in) {
      if (f.in.length === 0 || f.in.length > 1000)
        throw errors.invalidArgument(`${path}.in`, 'must list 1 to 1000 values');
      const values = f.in.map((v, j) => String(operand(def, v, `${path}.in[${j}]`)));
      tests.push(sql`${column} = ANY(${sql.param(values)}::${sql.raw(CAST[type])}[])`);
    }
    if (tests.length > 0 || f.isNull === false) {
      const extra = tests.length > 0 ? sql` AND ${sql.join(tests, sql` AND `)}` : sql``;
      conditions.push(sql`EXISTS (SELECT 1 ${base}${extra})`);
    }
  }
  return conditions;
}
