import { type SQL, sql } from 'drizzle-orm';
import type { JurisdictionScope } from '../../access/principal.ts';
import { codecFor } from '../../crypto/at-rest.ts';
import type { Geometry } from '../../db/geojson.ts';
import { rows } from '../../db/index.ts';
import type { GatewayContext } from '../../gateway/context.ts';

/**
 * A person as stored: the sensitive fields (ID number, addresses, phone) are ciphertexts here, decrypted
 * by the GraphQL access layer for the fields a caller may see (src/crypto/at-rest.ts).
 */
export interface PersonRow {
  id: number;
  idNumber: string;
  name: string;
  gender: '1' | '2';
  birthDate: string;
  ethnicity: string | null;
  nationality: string;
  hukouDivisionCode: string;
  hukouAddress: string | null;
  residenceDivisionCode: string | null;
  residenceAddress: string | null;
  residencePoint: Geometry | null;
  maritalStatus: string | null;
  education: string | null;
  phone: string | null;
  status: 'alive' | 'deceased';
  deathDate: string | null;
  householdId: number | null;
  version: number;
  validFrom: Date;
  updatedAt: Date;
  sourceDept: string;
  sourceBatch: string | null;
}

export const PERSON_COLUMNS =
  sql.raw(`p.id, p.id_number AS "idNumber", p.name, p.gender, p.birth_date AS "birthDate",
  p.ethnicity, p.nationality, p.hukou_division_code AS "hukouDivisionCode", p.hukou_address AS "hukouAddress",
  p.residence_division_code AS "residenceDivisionCode", p.residence_address AS "residenceAddress",
  ST_AsGeoJSON(p.residence_point, 7, 0)::json AS "residencePoint", p.marital_status AS "maritalStatus",
  p.education, p.phone, p.status, p.death_date AS "deathDate", p.household_id AS "householdId", p.version,
  p.valid_from AS "validFrom", p.updated_at AS "updatedAt", p.source_dept AS "sourceDept",
  p.source_batch AS "sourceBatch"`);

/** Row scope in SQL: a person belongs to a jurisdiction where registered (户籍) or residing (居住). */
export function personScope(scope: JurisdictionScope | null, alias = 'p'): SQL {
  if (!scope) return sql`TRUE`;
  const hukou = sql.raw(`${alias}.hukou_division_code`);
  const residence = sql.raw(`${alias}.residence_division_code`);
  return sql`(${hukou} BETWEEN ${scope.lo} AND ${scope.hi} OR ${residence} BETWEEN ${scope.lo} AND ${scope.hi})`;
}

/** Persons by internal id, within the caller's jurisdiction (others load as null). */
export function personById(ctx: GatewayContext) {
  return ctx.loaders.get<number, PersonRow | null>('person.byId', async (ids) => {
    const found = await rows<PersonRow>(
      ctx.db,
      sql`SELECT ${PERSON_COLUMNS} FROM persons p
           WHERE p.id = ANY(${sql.param([...ids])}::bigint[]) AND ${personScope(ctx.access.principal.scope)}`,
    );
    const byId = new Map(found.map((p) => [Number(p.id), p]));
    return ids.map((id) => byId.get(Number(id)) ?? null);
  });
}

/**
 * Persons by ID number (in clear, as parsed), unscoped: the caller decides what an out-of-scope hit means.
 * Looked up by the blind index of the number: the stored number is a ciphertext.
 */
export function personByIdNumber(ctx: GatewayContext) {
  return ctx.loaders.get<string, PersonRow | null>('person.byIdNumber', async (numbers) => {
    const codec = codecFor(ctx.db);
    const keys = numbers.map((n) => codec.blindIndexFor('persons', 'id_number', n));
    const found = await rows<PersonRow & { idNumberBidx: string }>(
      ctx.db,
      sql`SELECT ${PERSON_COLUMNS}, p.id_number_bidx AS "idNumberBidx" FROM persons p
           WHERE p.id_number_bidx = ANY(${sql.param(keys.filter((k) => k !== null))}::text[])`,
    );
    const byKey = new Map(found.map(({ idNumberBidx, ...p }) => [idNumberBidx, p as PersonRow]));
    return keys.map((k) => (k === null ? null : (byKey.get(k) ?? null)));
  });
}

/** Whole years between a birth date and a day, both 'YYYY-MM-DD'. */
export function ageOn(birthDate: string, day: string): number {
  const years = Number(day.slice(0, 4)) - Number(birthDate.slice(0, 4));
  return day.slice(5) < birthDate.slice(5) ? years - 1 : years;
}

/** The latest birth date of someone aged at least `age` on `day` (so age ≥ n ⇔ birth_date ≤ this). */
export function birthDateForAge(age: number, day: string): string {
  const year = Number(day.slice(0, 4)) - age;
  const monthDay = day.slice(5);
  // 29 February in a non-leap target year: a person born 28 Feb has their birthday that day.
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  return `${String(year).padStart(4, '0')}-${monthDay === '02-29' && !leap ? '02-28' : monthDay}`;
}

export function today(): string {
  return new Date().toISOString().slice(0, 10);
}

export function addDays(day: string, days: number): string {
  const d = new Date(`${day}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}
