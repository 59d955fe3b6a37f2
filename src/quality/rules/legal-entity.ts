import { parseUscc } from '../../codes/index.ts';
import type { Row } from '../../db/index.ts';
import type { CodeRule, Rule, Scan, SqlRule } from '../types.ts';
import { BOUNDARY_OF_DIVISION } from './population.ts';

/**
 * Legal-entity registry rules, written against schema/legal-entity.ts. USCC checks are code checks (the
 * GB 32100 / GB 11714 arithmetic lives in src/codes); the rest is set-based SQL, including the
 * cross-registry checks against the population registry (legal representatives) and the divisions.
 */

const SOURCE = 'builtin:src/quality/rules/legal-entity.ts';
const ENTITIES = 'legal_entity.entities';
const common = { registry: 'legal-entity', dataset: ENTITIES, source: SOURCE } as const;

export const ENTITY_USCC_SCAN: Scan = {
  name: 'entities (USCC)',
  from: 'entities e',
  key: 'e.id',
  columns: 'e.uscc, e.uscc_status',
  division: 'e.division_code',
};

function usccOf(row: Row): ReturnType<typeof parseUscc> {
  return parseUscc(String(row.uscc ?? ''));
}

export const usccValid: CodeRule = {
  ...common,
  kind: 'code',
  id: 'legal_entity.entities.uscc_valid',
  dimension: 'normative',
  severity: 'error',
  threshold: 0.001,
  description:
    'The unified social credit code is well formed with a correct GB 32100 check character, department and category',
  scan: ENTITY_USCC_SCAN,
  check(row) {
    const result = usccOf(row);
    // The USCC is public (publicised by law): the detail may name it.
    return result.ok ? null : `${result.message} (${String(row.uscc)})`;
  },
};

export const usccOrgCode: CodeRule = {
  ...common,
  kind: 'code',
  id: 'legal_entity.entities.uscc_org_code',
  dimension: 'normative',
  severity: 'warn',
  threshold: 0.05,
  description:
    'The organisation code embedded in the USCC (positions 9–17) passes its GB 11714 check; pilot-era codes that do not are legally valid and only warned',
  scan: ENTITY_USCC_SCAN,
  applies: (row) => usccOf(row).ok,
  check(row) {
    const result = usccOf(row);
    if (!result.ok || !result.value.pilotException) return null;
    const org = result.value.orgCode;
    return `embedded organisation code ${org.slice(0, 8)}-${org.slice(8)} fails its GB 11714 check (pilot-era code, legally valid)`;
  },
};

export const usccStatus: CodeRule = {
  ...common,
  kind: 'code',
  id: 'legal_entity.entities.uscc_status',
  dimension: 'consistency',
  severity: 'warn',
  threshold: 0.01,
  description: 'The recorded USCC status (valid, pilot_exception, invalid) agrees with the code itself',
  scan: ENTITY_USCC_SCAN,
  check(row) {
    const result = usccOf(row);
    const expected = !result.ok ? 'invalid' : result.value.pilotException ? 'pilot_exception' : 'valid';
    return row.uscc_status === expected
      ? null
      : `status is ${String(row.uscc_status)}, the code says ${expected}`;
  },
};

const entityPopulation = { from: 'entities e', division: 'e.division_code' };

export const legalRepAlive: SqlRule = {
  ...common,
  kind: 'sql',
  id: 'legal_entity.entities.legal_rep_alive',
  dimension: 'consistency',
  severity: 'error',
  threshold: 0.001,
  description:
    'An entity that is not cancelled has a legal representative who is a living person of the population registry',
  population: { from: 'entities e', where: "e.status <> 'cancelled'", division: 'e.division_code' },
  check: `
SELECT e.id AS key, e.division_code,
       CASE WHEN e.legal_rep_person_id IS NULL AND coalesce(btrim(e.legal_rep_name), '') = ''
              THEN 'no legal representative'
            WHEN e.legal_rep_person_id IS NULL
              THEN 'legal representative is not a person of the population registry (no person holds the registered ID number)'
            WHEN p.id IS NULL
              THEN 'legal representative (person ' || e.legal_rep_person_id || ') is not in the population registry'
            ELSE 'legal representative (person ' || p.id || ') is deceased'
                 || coalesce(' since ' || extract(year FROM p.death_date)::int, '') END AS detail
  FROM entities e
  LEFT JOIN persons p ON p.id = e.legal_rep_person_id
 WHERE e.status <> 'cancelled'
   AND (e.legal_rep_person_id IS NULL OR p.id IS NULL OR p.status = 'deceased')`,
};

export const shareholdingsTotal: SqlRule = {
  ...common,
  kind: 'sql',
  id: 'legal_entity.shareholdings.total',
  dimension: 'accuracy',
  severity: 'error',
  threshold: 0.001,
  description: 'The current shareholdings of an entity sum to at most 100 %',
  population: {
    from: 'entities e',
    where: 'EXISTS (SELECT 1 FROM shareholdings s WHERE s.entity_id = e.id AND s.ended_on IS NULL)',
    division: 'e.division_code',
  },
  check: `
SELECT e.id AS key, e.division_code,
       'current shareholdings sum to ' || trim_scale(t.total)::text || ' % (' || t.holders || ' holders)' AS detail
  FROM (SELECT s.entity_id, sum(s.percentage) AS total, count(*) AS holders
          FROM shareholdings s WHERE s.ended_on IS NULL GROUP BY s.entity_id) t
  JOIN entities e ON e.id = t.entity_id
 WHERE t.total > 100`,
};

export const entityPointInDivision: SqlRule = {
  ...common,
  kind: 'sql',
  id: 'legal_entity.entities.point_in_division',
  dimension: 'consistency',
  severity: 'error',
  threshold: 0.002,
  description:
    'The geocoded registered address lies inside the registered division (the finest boundary available up its chain)',
  population: { from: 'entities e', where: 'e.point IS NOT NULL', division: 'e.division_code' },
  check: `
SELECT e.id AS key, e.division_code,
       'registered address point lies ' || round((ST_DistanceSphere(ST_ClosestPoint(b.boundary, e.point), e.point) / 1000)::numeric, 1)
         || ' km outside ' || b.code || ' ' || b.name AS detail
  FROM entities e
  JOIN (${BOUNDARY_OF_DIVISION}) bd ON bd.division_code = e.division_code
  JOIN divisions b ON b.code = bd.boundary_code
 WHERE e.point IS NOT NULL AND NOT ST_Covers(b.boundary, e.point)`,
};

export const entityRequiredFields: SqlRule = {
  ...common,
  kind: 'sql',
  id: 'legal_entity.entities.required_fields',
  dimension: 'completeness',
  severity: 'error',
  threshold: 0.005,
  description: 'Required fields are present: name, registration authority and registered address',
  population: entityPopulation,
  check: `
SELECT e.id AS key, e.division_code,
       'missing: ' || concat_ws(', ',
         CASE WHEN btrim(e.name) = '' THEN 'name' END,
         CASE WHEN btrim(e.registration_authority) = '' THEN 'registration_authority' END,
         CASE WHEN e.address IS NULL OR btrim(e.address) = '' THEN 'address' END) AS detail
  FROM entities e
 WHERE btrim(e.name) = '' OR btrim(e.registration_authority) = '' OR e.address IS NULL OR btrim(e.address) = ''`,
};

export const duplicateEntities: SqlRule = {
  ...common,
  kind: 'sql',
  id: 'legal_entity.entities.duplicate',
  dimension: 'uniqueness',
  severity: 'error',
  threshold: 0.001,
  description:
    'No two entities that are not cancelled share a registered name in the same division; the later record(s) fail',
  population: { from: 'entities e', where: "e.status <> 'cancelled'", division: 'e.division_code' },
  check: `
SELECT d.id AS key, d.division_code,
       'same registered name and division as entity ' || d.first_id AS detail
  FROM (SELECT e.id, e.division_code, first_value(e.id) OVER w AS first_id, row_number() OVER w AS n
          FROM entities e WHERE e.status <> 'cancelled'
        WINDOW w AS (PARTITION BY btrim(e.name), e.division_code ORDER BY e.id)) d
 WHERE d.n > 1`,
};

export const entityDivisionKnown: SqlRule = {
  ...common,
  kind: 'sql',
  id: 'legal_entity.entities.division_known',
  dimension: 'consistency',
  severity: 'error',
  threshold: 0.001,
  description: 'The registered division names a current division (GB/T 2260)',
  population: entityPopulation,
  check: `
SELECT e.id AS key, e.division_code,
       CASE WHEN d.code IS NULL THEN 'registered division ' || e.division_code || ' is unknown'
            ELSE 'registered division ' || d.code || ' ' || d.name || ' was abolished on ' || d.valid_to END AS detail
  FROM entities e LEFT JOIN divisions d ON d.code = e.division_code
 WHERE d.code IS NULL OR d.valid_to IS NOT NULL`,
};

export const LEGAL_ENTITY_RULES: readonly Rule[] = [
  usccValid,
  usccOrgCode,
  usccStatus,
  legalRepAlive,
  shareholdingsTotal,
  entityPointInDivision,
  entityRequiredFields,
  duplicateEntities,
  entityDivisionKnown,
];
