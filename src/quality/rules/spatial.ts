import { parseDivisionCode } from '../../codes/index.ts';
import type { CodeRule, Rule, Scan, SqlRule } from '../types.ts';

/**
 * Spatial registry rules over the division table: codes, hierarchy, boundaries. Thematic layers (with
 * feature dates) get their rules here when they exist; their timeliness comes from ./timeliness.ts.
 */

const SOURCE = 'builtin:src/quality/rules/spatial.ts';
const DIVISIONS = 'spatial.divisions';
const common = { registry: 'spatial', dataset: DIVISIONS, source: SOURCE } as const;

const DIVISION_SCAN: Scan = {
  name: 'divisions',
  from: 'divisions d',
  key: 'd.code',
  columns: 'd.level, d.prefix',
  division: 'd.code',
};

const PREFIX_LENGTH = { province: 2, city: 4, county: 6, town: 9 } as const;

export const divisionCodeFormat: CodeRule = {
  ...common,
  kind: 'code',
  id: 'spatial.divisions.code_format',
  dimension: 'normative',
  severity: 'error',
  threshold: 0.001,
  description:
    'A division code is a structurally valid GB/T 2260 code (9 digits for NBS towns) whose structure matches its level and prefix',
  scan: DIVISION_SCAN,
  check(row) {
    const code = String(row.key);
    const parsed = parseDivisionCode(code);
    if (!parsed.ok) return parsed.message;
    const level = String(row.level) as keyof typeof PREFIX_LENGTH;
    // City-level codes whose county part is 00 also name county-level units directly under a province
    // (e.g. 419001 济源 is county-structured): only a mismatch the other way round is an error.
    if (parsed.value.level !== level && !(parsed.value.level === 'county' && level === 'city')) {
      return `code ${code} is structured as a ${parsed.value.level} but recorded as a ${level}`;
    }
    const prefix = code.slice(0, PREFIX_LENGTH[level] ?? code.length);
    return row.prefix === prefix ? null : `prefix is ${String(row.prefix)}, expected ${prefix}`;
  },
};

export const divisionHierarchy: SqlRule = {
  ...common,
  kind: 'sql',
  id: 'spatial.divisions.hierarchy',
  dimension: 'consistency',
  severity: 'error',
  threshold: 0.001,
  description:
    'Every division below a province has an existing parent one or more levels up whose prefix its code starts with; current divisions hang off current parents',
  population: { from: 'divisions d', division: 'd.code' },
  check: `
SELECT c.code AS key, c.code AS division_code,
       concat_ws('; ',
         CASE WHEN c.parent_code IS NULL AND c.level <> 'province' THEN 'no parent' END,
         CASE WHEN c.parent_code IS NOT NULL AND p.code IS NULL THEN 'parent ' || c.parent_code || ' does not exist' END,
         CASE WHEN c.level = 'province' AND c.parent_code IS NOT NULL THEN 'a province has a parent' END,
         CASE WHEN p.code IS NOT NULL AND array_position(ARRAY['province','city','county','town'], p.level)
                                     >= array_position(ARRAY['province','city','county','town'], c.level)
              THEN 'parent ' || p.code || ' is a ' || p.level || ', not above a ' || c.level END,
         CASE WHEN p.code IS NOT NULL AND left(c.code, length(p.prefix)) <> p.prefix
              THEN 'code does not start with the parent''s prefix ' || p.prefix END,
         CASE WHEN c.valid_to IS NULL AND p.valid_to IS NOT NULL
              THEN 'current division under ' || p.code || ', abolished on ' || p.valid_to END) AS detail
  FROM divisions c LEFT JOIN divisions p ON p.code = c.parent_code
 WHERE (c.parent_code IS NULL AND c.level <> 'province')
    OR (c.parent_code IS NOT NULL AND p.code IS NULL)
    OR (c.level = 'province' AND c.parent_code IS NOT NULL)
    OR (p.code IS NOT NULL AND (
          array_position(ARRAY['province','city','county','town'], p.level)
            >= array_position(ARRAY['province','city','county','town'], c.level)
       OR left(c.code, length(p.prefix)) <> p.prefix
       OR (c.valid_to IS NULL AND p.valid_to IS NOT NULL)))`,
};

export const boundaryValid: SqlRule = {
  ...common,
  kind: 'sql',
  id: 'spatial.divisions.boundary_valid',
  dimension: 'accuracy',
  severity: 'error',
  threshold: 0.01,
  description: 'Division boundaries are valid OGC geometries (ST_IsValid), with the reason when not',
  population: { from: 'divisions d', where: 'd.boundary IS NOT NULL', division: 'd.code' },
  check: `
SELECT d.code AS key, d.code AS division_code, 'invalid boundary: ' || ST_IsValidReason(d.boundary) AS detail
  FROM divisions d
 WHERE d.boundary IS NOT NULL AND NOT ST_IsValid(d.boundary)`,
};

export const boundaryPresent: SqlRule = {
  ...common,
  kind: 'sql',
  id: 'spatial.divisions.boundary_present',
  dimension: 'completeness',
  severity: 'warn',
  threshold: 0.05,
  description: 'Current provinces and prefecture-level cities have a boundary polygon',
  population: {
    from: 'divisions d',
    where: "d.valid_to IS NULL AND d.level IN ('province', 'city')",
    division: 'd.code',
  },
  check: `
SELECT d.code AS key, d.code AS division_code, 'current ' || d.level || ' ' || d.name || ' has no boundary' AS detail
  FROM divisions d
 WHERE d.valid_to IS NULL AND d.level IN ('province', 'city') AND d.boundary IS NULL`,
};

export const SPATIAL_RULES: readonly Rule[] = [
  divisionCodeFormat,
  divisionHierarchy,
  boundaryValid,
  boundaryPresent,
];
