import { idCheckChar } from '../../codes/index.ts';
import type { Queryable, Row } from '../../db/index.ts';
import { shown } from '../detail.ts';
import { readIdNumber } from '../read-id-number.ts';
import type { CodeRule, Rule, Scan, SqlRule } from '../types.ts';

/**
 * Population registry rules. The ID-number rules are code checks streamed over persons (ID numbers are
 * encrypted at rest; the runner decrypts each page, and rules read them only through readIdNumber);
 * everything else is set-based SQL. Encrypted columns (ID number, addresses, phone) are opaque to SQL: a
 * blank value is stored as NULL (src/crypto/at-rest.ts), so `IS NULL` is their completeness test.
 */

const SOURCE = 'builtin:src/quality/rules/population.ts';
const PERSONS = 'population.persons';
const common = { registry: 'population', dataset: PERSONS, source: SOURCE } as const;

/** One pass over persons serves every ID-number rule. */
export const PERSON_ID_SCAN: Scan = {
  name: 'persons (ID numbers)',
  from: 'persons p',
  key: 'p.id',
  columns: 'p.id_number, p.gender, p.birth_date::text AS birth_date',
  division: 'p.hukou_division_code',
};

const ID18 = /^\d{17}[\dX]$/;
const ID15 = /^\d{15}$/;

interface IdParts {
  address: string;
  /** YYYY-MM-DD as written in the number (not necessarily a real date). */
  date: string;
  sequence: number;
}

/**
 * The parts of the row's ID number, or null when it is malformed (another rule's business). Parsing is
 * cheaper than caching the result on the row (a property added to every row object costs more).
 */
function idParts(row: Row): IdParts | null {
  const idNumber = readIdNumber(row);
  if (idNumber === null) return null;
  if (ID18.test(idNumber)) {
    return {
      address: idNumber.slice(0, 6),
      date: `${idNumber.slice(6, 10)}-${idNumber.slice(10, 12)}-${idNumber.slice(12, 14)}`,
      sequence: Number(idNumber.slice(14, 17)),
    };
  }
  if (ID15.test(idNumber)) {
    return {
      address: idNumber.slice(0, 6),
      date: `19${idNumber.slice(6, 8)}-${idNumber.slice(8, 10)}-${idNumber.slice(10, 12)}`,
      sequence: Number(idNumber.slice(12, 15)),
    };
  }
  return null;
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function isCalendarDate(iso: string): boolean {
  const year = Number(iso.slice(0, 4));
  const month = Number(iso.slice(5, 7));
  const day = Number(iso.slice(8, 10));
  if (month < 1 || month > 12 || day < 1) return false;
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  return day <= (month === 2 && leap ? 29 : DAYS_IN_MONTH[month - 1]!);
}

function daysBetween(a: string, b: string): number {
  return Math.round((Date.parse(`${b}T00:00:00Z`) - Date.parse(`${a}T00:00:00Z`)) / 86_400_000);
}

const maskedId = (idNumber: string) => shown(PERSONS, 'idNumber', idNumber);

export const idCheckDigit: CodeRule = {
  ...common,
  kind: 'code',
  id: 'population.persons.id_check_digit',
  dimension: 'normative',
  severity: 'error',
  threshold: 0.001,
  description:
    'The citizen ID number is 17 digits and a GB 11643 (ISO 7064 MOD 11-2) check character, or a 15-digit pre-1999 number',
  scan: PERSON_ID_SCAN,
  check(row) {
    const idNumber = readIdNumber(row);
    if (idParts(row) === null) {
      if (idNumber === null || idNumber.trim() === '') return 'ID number is empty';
      return /^\d{17}x$/.test(idNumber)
        ? `check character is a lower-case x for ${maskedId(idNumber)}`
        : `ID number is not 17 digits and a check character (${idNumber.length} characters: ${maskedId(idNumber)})`;
    }
    if (idNumber!.length === 15) return null;
    const expected = idCheckChar(idNumber!.slice(0, 17));
    const actual = idNumber!.slice(17);
    return actual === expected
      ? null
      : `check digit is ${actual}, expected ${expected} for ${maskedId(idNumber!)}`;
  },
};

export const idBirthGender: CodeRule = {
  ...common,
  kind: 'code',
  id: 'population.persons.id_birth_gender',
  dimension: 'consistency',
  severity: 'error',
  threshold: 0.001,
  description:
    'Date of birth and gender agree with the ID number (birth-date part; odd sequence code male, even female)',
  scan: PERSON_ID_SCAN,
  applies: (row) => idParts(row) !== null,
  check(row) {
    const idNumber = readIdNumber(row)!;
    const parts = idParts(row)!;
    const problems: string[] = [];
    const birthDate = String(row.birth_date);
    if (!isCalendarDate(parts.date)) {
      problems.push(`the ID number's birth-date part is not a real date`);
    } else if (parts.date !== birthDate) {
      const days = daysBetween(parts.date, birthDate);
      problems.push(
        `birth date (${shown(PERSONS, 'birthDate', birthDate)}) is ${Math.abs(days)} days ${days > 0 ? 'after' : 'before'} the ID number's (${shown(PERSONS, 'birthDate', parts.date)})`,
      );
    }
    const idGender = parts.sequence % 2 === 1 ? '1' : '2';
    if (row.gender !== idGender) {
      problems.push(
        `gender is ${row.gender === '1' ? 'male' : 'female'} but the ID number's sequence code is ${idGender === '1' ? 'odd (male)' : 'even (female)'}`,
      );
    }
    return problems.length === 0 ? null : `${problems.join('; ')} — ${maskedId(idNumber)}`;
  },
};

interface AddressCodes {
  /** 6-digit division code → the date it stopped being valid ('' while current). */
  validTo: Map<string, string>;
}

export const idAddressCode: CodeRule<AddressCodes> = {
  ...common,
  kind: 'code',
  id: 'population.persons.id_address_code',
  dimension: 'normative',
  severity: 'error',
  threshold: 0.001,
  description:
    "The ID number's address code is a GB/T 2260 division, current or historical, that was still valid when the person was born",
  scan: PERSON_ID_SCAN,
  async prepare(db: Queryable) {
    const found = await db.query<{ code: string; valid_to: string | null }>(
      `SELECT code, valid_to::text AS valid_to FROM divisions WHERE level <> 'town'`,
    );
    return { validTo: new Map(found.map((d) => [d.code, d.valid_to ?? ''])) };
  },
  applies: (row) => idParts(row) !== null,
  check(row, context) {
    const idNumber = readIdNumber(row)!;
    const parts = idParts(row)!;
    const validTo = context.validTo.get(parts.address);
    if (validTo === undefined) {
      return `address code ${parts.address} is not a known division (current or historical) — ${maskedId(idNumber)}`;
    }
    const birthDate = String(row.birth_date);
    if (validTo !== '' && validTo <= birthDate) {
      return `address code ${parts.address} was abolished on ${validTo}, before the birth date (${shown(PERSONS, 'birthDate', birthDate)})`;
    }
    return null;
  },
};

const personPopulation = { from: 'persons p', division: 'p.hukou_division_code' };

export const requiredFields: SqlRule = {
  ...common,
  kind: 'sql',
  id: 'population.persons.required_fields',
  dimension: 'completeness',
  severity: 'error',
  threshold: 0.005,
  description:
    'Required fields are present and not blank: name, gender, date of birth, nationality, hukou division and hukou address',
  population: personPopulation,
  check: `
SELECT p.id AS key, p.hukou_division_code AS division_code,
       'missing: ' || concat_ws(', ',
         CASE WHEN btrim(p.name) = '' THEN 'name' END,
         CASE WHEN p.gender IS NULL OR p.gender NOT IN ('1', '2') THEN 'gender' END,
         CASE WHEN p.birth_date IS NULL THEN 'birth_date' END,
         CASE WHEN btrim(p.nationality) = '' THEN 'nationality' END,
         CASE WHEN btrim(p.hukou_division_code) = '' THEN 'hukou_division_code' END,
         CASE WHEN p.hukou_address IS NULL THEN 'hukou_address' END) AS detail
  FROM persons p
 WHERE btrim(p.name) = '' OR p.gender IS NULL OR p.gender NOT IN ('1', '2') OR p.birth_date IS NULL
    OR btrim(p.nationality) = '' OR btrim(p.hukou_division_code) = ''
    OR p.hukou_address IS NULL`,
};

export const duplicatePersons: SqlRule = {
  ...common,
  kind: 'sql',
  id: 'population.persons.duplicate',
  dimension: 'uniqueness',
  severity: 'error',
  threshold: 0.001,
  description:
    'No two persons share name, gender, date of birth and hukou division; the later record(s) of each group fail',
  population: personPopulation,
  check: `
SELECT d.id AS key, d.hukou_division_code AS division_code,
       'same name, gender, date of birth and hukou division as person ' || d.first_id AS detail
  FROM (SELECT p.id, p.hukou_division_code,
               first_value(p.id) OVER w AS first_id, row_number() OVER w AS n
          FROM persons p
        WINDOW w AS (PARTITION BY btrim(p.name), p.gender, p.birth_date, p.hukou_division_code ORDER BY p.id)) d
 WHERE d.n > 1`,
};

/**
 * For every division, the nearest division up its chain (itself first) that has a boundary: towns have
 * none, some counties neither, so their city's or province's polygon is the finest test available.
 * The chain is at most town → county → city → province, so three joins reach its top.
 */
export const BOUNDARY_OF_DIVISION = `
SELECT d.code AS division_code,
       CASE WHEN d.boundary IS NOT NULL THEN d.code WHEN p1.boundary IS NOT NULL THEN p1.code
            WHEN p2.boundary IS NOT NULL THEN p2.code WHEN p3.boundary IS NOT NULL THEN p3.code END AS boundary_code
  FROM divisions d
  LEFT JOIN divisions p1 ON p1.code = d.parent_code
  LEFT JOIN divisions p2 ON p2.code = p1.parent_code
  LEFT JOIN divisions p3 ON p3.code = p2.parent_code`;

export const residencePointInDivision: SqlRule = {
  ...common,
  kind: 'sql',
  id: 'population.persons.residence_point_in_division',
  dimension: 'consistency',
  severity: 'error',
  threshold: 0.002,
  description:
    'The residence point lies inside the stated residence division (the finest boundary available up its chain)',
  population: {
    from: 'persons p',
    where: 'p.residence_point IS NOT NULL',
    division: 'coalesce(p.residence_division_code, p.hukou_division_code)',
  },
  check: `
SELECT p.id AS key, p.residence_division_code AS division_code,
       'residence point lies ' || round((ST_DistanceSphere(ST_ClosestPoint(b.boundary, p.residence_point), p.residence_point) / 1000)::numeric, 1)
         || ' km outside ' || b.code || ' ' || b.name
         || CASE WHEN b.code <> p.residence_division_code THEN ' (boundary of stated division ' || p.residence_division_code || ')' ELSE '' END AS detail
  FROM persons p
  JOIN (${BOUNDARY_OF_DIVISION}) bd ON bd.division_code = p.residence_division_code
  JOIN divisions b ON b.code = bd.boundary_code
 WHERE p.residence_point IS NOT NULL AND NOT ST_Covers(b.boundary, p.residence_point)`,
};

export const divisionsKnown: SqlRule = {
  ...common,
  kind: 'sql',
  id: 'population.persons.divisions_known',
  dimension: 'consistency',
  severity: 'error',
  threshold: 0.001,
  description: 'Hukou and residence division codes name current divisions (GB/T 2260 / NBS)',
  population: personPopulation,
  check: `
SELECT p.id AS key, p.hukou_division_code AS division_code,
       concat_ws('; ',
         CASE WHEN h.code IS NULL THEN 'hukou division ' || p.hukou_division_code || ' is unknown'
              WHEN h.valid_to IS NOT NULL THEN 'hukou division ' || h.code || ' ' || h.name || ' was abolished on ' || h.valid_to END,
         CASE WHEN p.residence_division_code IS NOT NULL AND r.code IS NULL THEN 'residence division ' || p.residence_division_code || ' is unknown'
              WHEN r.valid_to IS NOT NULL THEN 'residence division ' || r.code || ' ' || r.name || ' was abolished on ' || r.valid_to END) AS detail
  FROM persons p
  LEFT JOIN divisions h ON h.code = p.hukou_division_code
  LEFT JOIN divisions r ON r.code = p.residence_division_code
 WHERE h.code IS NULL OR h.valid_to IS NOT NULL
    OR (p.residence_division_code IS NOT NULL AND (r.code IS NULL OR r.valid_to IS NOT NULL))`,
};

export const codeLists: SqlRule = {
  ...common,
  kind: 'sql',
  id: 'population.persons.code_lists',
  dimension: 'normative',
  severity: 'warn',
  threshold: 0.01,
  description:
    'Ethnicity (GB/T 3304), marital status (GB/T 2261.2), education (GB/T 4658) and nationality (GB/T 2659) use codes of the national code lists',
  population: personPopulation,
  check: `
SELECT p.id AS key, p.hukou_division_code AS division_code,
       'not in the code list: ' || concat_ws(', ',
         CASE WHEN p.ethnicity IS NOT NULL AND e.code IS NULL THEN 'ethnicity' END,
         CASE WHEN p.marital_status IS NOT NULL AND m.code IS NULL THEN 'marital_status' END,
         CASE WHEN p.education IS NOT NULL AND ed.code IS NULL THEN 'education' END,
         CASE WHEN n.code IS NULL THEN 'nationality' END) AS detail
  FROM persons p
  LEFT JOIN code_lists e ON e.list = 'ethnicity' AND e.code = p.ethnicity
  LEFT JOIN code_lists m ON m.list = 'marital_status' AND m.code = p.marital_status
  LEFT JOIN code_lists ed ON ed.list = 'education' AND ed.code = p.education
  LEFT JOIN code_lists n ON n.list = 'nationality' AND n.code = p.nationality
 WHERE (p.ethnicity IS NOT NULL AND e.code IS NULL) OR (p.marital_status IS NOT NULL AND m.code IS NULL)
    OR (p.education IS NOT NULL AND ed.code IS NULL) OR n.code IS NULL`,
};

export const datesPlausible: SqlRule = {
  ...common,
  kind: 'sql',
  id: 'population.persons.dates_plausible',
  dimension: 'accuracy',
  severity: 'error',
  threshold: 0.001,
  description:
    'Dates are plausible: born neither in the future nor more than 130 years ago; death neither before birth nor in the future',
  population: personPopulation,
  check: `
SELECT p.id AS key, p.hukou_division_code AS division_code,
       concat_ws('; ',
         CASE WHEN p.birth_date > :as_of THEN 'born after the reference date' END,
         CASE WHEN p.birth_date < :as_of - interval '130 years' THEN 'born more than 130 years ago' END,
         CASE WHEN p.death_date < p.birth_date THEN 'died before being born' END,
         CASE WHEN p.death_date > :as_of THEN 'died after the reference date' END) AS detail
  FROM persons p
 WHERE p.birth_date > :as_of OR p.birth_date < :as_of - interval '130 years'
    OR p.death_date < p.birth_date OR p.death_date > :as_of`,
};

export const deathStatus: SqlRule = {
  ...common,
  kind: 'sql',
  id: 'population.persons.death_status',
  dimension: 'consistency',
  severity: 'error',
  threshold: 0.001,
  description: 'A person is deceased exactly when a date of death is recorded',
  population: personPopulation,
  check: `
SELECT p.id AS key, p.hukou_division_code AS division_code,
       CASE WHEN p.status = 'deceased' THEN 'deceased without a date of death'
            ELSE 'alive with a date of death' END AS detail
  FROM persons p
 WHERE (p.status = 'deceased') <> (p.death_date IS NOT NULL)`,
};

export const POPULATION_RULES: readonly Rule[] = [
  idCheckDigit,
  idBirthGender,
  idAddressCode,
  requiredFields,
  duplicatePersons,
  residencePointInDivision,
  divisionsKnown,
  codeLists,
  datesPlausible,
  deathStatus,
];
