/**
 * An attribute's validation, as SQL over its definition row `d`: one source for the import (a delivered
 * text value, set-based), the single-value writes, and the quality rule that re-checks stored values.
 * Each expression yields the reason a value is refused, or NULL when it passes.
 */

const INTEGER = `'^[+-]?[0-9]{1,18}$'`;
const DECIMAL = `'^[+-]?([0-9]{1,30}(\\.[0-9]{0,30})?|\\.[0-9]{1,30})$'`;
const BOOLEAN_WORDS = `('true','false','t','f','1','0','yes','no')`;

function rangeOf(value: string, cast: string, d: string): string {
  return `WHEN ${d}.min_value IS NOT NULL AND ${value} < ${d}.min_value::${cast}
            THEN 'is below the minimum ' || ${d}.min_value
          WHEN ${d}.max_value IS NOT NULL AND ${value} > ${d}.max_value::${cast}
            THEN 'is above the maximum ' || ${d}.max_value`;
}

function textRules(value: string, d: string): string {
  return `WHEN ${d}.data_type = 'text' AND ${d}.min_value IS NOT NULL AND char_length(${value}) < ${d}.min_value::int
            THEN 'is shorter than ' || ${d}.min_value || ' characters'
          WHEN ${d}.data_type = 'text' AND ${d}.max_value IS NOT NULL AND char_length(${value}) > ${d}.max_value::int
            THEN 'is longer than ' || ${d}.max_value || ' characters'
          WHEN ${d}.data_type = 'code' AND NOT (${value} = ANY(${d}.code_values))
            THEN 'is not in the code list (' || array_to_string(${d}.code_values, ', ') || ')'
          WHEN ${d}.pattern IS NOT NULL AND ${value} !~ ('^(?:' || ${d}.pattern || ')$')
            THEN 'does not match the pattern ' || ${d}.pattern`;
}

/** SQL: why the delivered text `v` is not a valid value of definition `d`, or NULL. */
export function textValueDefect(d: string, v: string): string {
  const date = `(substr(${v}, 1, 4) || '-' || substr(${v}, 6, 2) || '-01')::date`;
  return `CASE ${d}.data_type
    WHEN 'integer' THEN CASE WHEN ${v} !~ ${INTEGER} THEN 'is not an integer' ${rangeOf(`${v}::numeric`, 'numeric', d)} END
    WHEN 'decimal' THEN CASE WHEN ${v} !~ ${DECIMAL} THEN 'is not a decimal number' ${rangeOf(`${v}::numeric`, 'numeric', d)} END
    WHEN 'date' THEN CASE
          WHEN ${v} !~ '^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$' OR substr(${v}, 1, 4) = '0000'
            THEN 'is not a date (YYYY-MM-DD)'
          WHEN substr(${v}, 9, 2)::int > extract(day FROM ${date} + interval '1 month' - interval '1 day')
            THEN 'is not a date (YYYY-MM-DD)'
          ${rangeOf(`${v}::date`, 'date', d)} END
    WHEN 'boolean' THEN CASE WHEN lower(${v}) NOT IN ${BOOLEAN_WORDS} THEN 'is not a boolean (true or false)' END
    WHEN 'geometry' THEN CASE
          WHEN ${v} !~ '^\\s*\\{.*"type"\\s*:\\s*"(Point|MultiPoint|LineString|MultiLineString|Polygon|MultiPolygon)".*"coordinates"\\s*:'
            THEN 'is not a GeoJSON geometry'
          -- Parsed in a function that turns PostGIS's errors into a reason (migration 0017).
          ELSE gb_geojson_defect(${v}) END
    ELSE CASE ${textRules(v, d)} END
  END`;
}

/** SQL: the typed columns of a value from the accepted text `v` of definition `d`, in insert order. */
export const VALUE_COLUMNS = [
  'value_text',
  'value_int',
  'value_num',
  'value_date',
  'value_bool',
  'value_geom',
];

export function typedValues(d: string, v: string): string[] {
  return [
    `CASE WHEN ${d}.data_type IN ('text', 'code') THEN ${v} END`,
    `CASE WHEN ${d}.data_type = 'integer' THEN ${v}::int8 END`,
    `CASE WHEN ${d}.data_type = 'decimal' THEN ${v}::numeric END`,
    `CASE WHEN ${d}.data_type = 'date' THEN ${v}::date END`,
    `CASE WHEN ${d}.data_type = 'boolean' THEN lower(${v}) IN ('true', 't', '1', 'yes') END`,
    `CASE WHEN ${d}.data_type = 'geometry' THEN ST_SetSRID(ST_GeomFromGeoJSON(${v}), 4490) END`,
  ];
}

/** SQL: the stored value `a` (attribute_values) breaks its current definition `d`, naming why; or NULL. */
export function storedValueDefect(d: string, a: string): string {
  return `CASE ${d}.data_type
    WHEN 'integer' THEN CASE WHEN ${a}.value_int IS NULL THEN 'holds no integer' ${rangeOf(`${a}.value_int::numeric`, 'numeric', d)} END
    WHEN 'decimal' THEN CASE WHEN ${a}.value_num IS NULL THEN 'holds no decimal' ${rangeOf(`${a}.value_num`, 'numeric', d)} END
    WHEN 'date' THEN CASE WHEN ${a}.value_date IS NULL THEN 'holds no date' ${rangeOf(`${a}.value_date`, 'date', d)} END
    WHEN 'boolean' THEN CASE WHEN ${a}.value_bool IS NULL THEN 'holds no boolean' END
    WHEN 'geometry' THEN CASE WHEN ${a}.value_geom IS NULL THEN 'holds no geometry'
                              WHEN NOT ST_IsValid(${a}.value_geom) THEN 'is not a valid geometry' END
    ELSE CASE WHEN ${a}.value_text IS NULL THEN 'holds no text' ${textRules(`${a}.value_text`, d)} END
  END`;
}

/** SQL: the typed value `a` differs from the typed value `b` (same definition). */
export function valueDiffers(a: string, b: string): string {
  return VALUE_COLUMNS.map((c) => `${a}.${c} IS DISTINCT FROM ${b}.${c}`).join(' OR ');
}
