import { sm3Hex } from '../access/sm3.ts';
import { buildIdNumber } from '../codes/index.ts';
import { atRest } from '../crypto/at-rest.ts';
import type { Queryable } from '../db/index.ts';

export interface PersonSeed {
  name?: string;
  gender?: '1' | '2';
  birthDate?: string;
  county?: string;
  town?: string | null;
  residenceCounty?: string;
  sequence?: number;
  phone?: string | null;
  point?: [number, number] | null;
  householdId?: number | null;
  status?: 'alive' | 'deceased';
  deathDate?: string | null;
  ethnicity?: string;
}

let sequence = 100;

const HUKOU_ADDRESS = '北京市朝阳区建国路88号';
const RESIDENCE_ADDRESS = '北京市朝阳区建国路88号3栋2单元501室';

/**
 * Inserts one consistent person (valid ID number for county, birth date and gender) and returns it, with
 * the sensitive fields encrypted like every write path does (`db` must have its at-rest keys open).
 */
export async function insertPerson(db: Queryable, seed: PersonSeed = {}) {
  const gender = seed.gender ?? '2';
  const birthDate = seed.birthDate ?? '1980-05-17';
  const county = seed.county ?? '110105';
  let seq = seed.sequence ?? sequence++;
  if (seq % 2 !== (gender === '1' ? 1 : 0)) seq++;
  const idNumber = buildIdNumber(county, birthDate, seq % 1000);
  const residence = seed.residenceCounty ?? county;
  const codec = await atRest(db);
  const p = codec.encodeRow('persons', {
    id_number: idNumber,
    hukou_address: HUKOU_ADDRESS,
    residence_address: RESIDENCE_ADDRESS,
    phone: seed.phone === undefined ? '13812345678' : seed.phone,
  });
  const [row] = await db.query<{ id: number }>(
    `INSERT INTO persons (id_number, id_number_bidx, name, gender, birth_date, ethnicity, hukou_division_code,
        hukou_address, hukou_address_bidx, residence_division_code, residence_address, residence_address_bidx,
        residence_point, phone, phone_bidx, household_id, status, death_date, marital_status, education,
        source_dept, source_batch)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12,
        CASE WHEN $13::float8 IS NULL THEN NULL ELSE ST_SetSRID(ST_Point($13, $14), 4490) END,
        $15, $16, $17, $18, $19, '20', '20', 'MPS', 'test') RETURNING id`,
    [
      p.id_number,
      p.id_number_bidx,
      seed.name ?? '王小红',
      gender,
      birthDate,
      seed.ethnicity ?? '01',
      seed.town ?? county,
      p.hukou_address,
      p.hukou_address_bidx,
      residence,
      p.residence_address,
      p.residence_address_bidx,
      seed.point === null ? null : (seed.point?.[0] ?? 116.46),
      seed.point === null ? null : (seed.point?.[1] ?? 39.91),
      p.phone,
      p.phone_bidx,
      seed.householdId ?? null,
      seed.status ?? 'alive',
      seed.deathDate ?? null,
    ],
  );
  const r = codec.encodeRow('residences', { address: RESIDENCE_ADDRESS });
  await db.query(
    `INSERT INTO residences (person_id, division_code, address, address_bidx, point, valid_from, source_dept)
     SELECT id, residence_division_code, $2, $3, residence_point, birth_date, 'MPS' FROM persons WHERE id = $1`,
    [row!.id, r.address, r.address_bidx],
  );
  return { id: Number(row!.id), idNumber, birthDate, gender, county };
}

export interface HouseholdSeed {
  number: string;
  division?: string;
  address?: string | null;
  type?: 'family' | 'collective';
  sourceBatch?: string;
}

/** Inserts one household (its address encrypted) and returns its id. */
export async function insertHousehold(db: Queryable, seed: HouseholdSeed): Promise<number> {
  const a = (await atRest(db)).encodeRow('households', {
    address: seed.address === undefined ? '北京市朝阳区建国路1号' : seed.address,
  });
  const [row] = await db.query<{ id: number }>(
    `INSERT INTO households (household_number, type, division_code, address, address_bidx, source_dept,
        source_batch)
     VALUES ($1, $2, $3, $4, $5, 'MPS', $6) RETURNING id`,
    [
      seed.number,
      seed.type ?? 'family',
      seed.division ?? '110105',
      a.address,
      a.address_bidx,
      seed.sourceBatch ?? 'test',
    ],
  );
  return Number(row!.id);
}

export interface DepartmentSeed {
  code: string;
  name?: string;
  kind?: string;
  adminLevel?: 'national' | 'province' | 'city' | 'county';
  jurisdictionCode?: string | null;
  /** Its API key, `gbk_<prefix>_<secret>`. */
  key: string;
  /** Its read grants, without purposes: dataset → the highest classification level it may see. */
  grants: Record<string, number>;
}

/** A department with one API key and its read grants: a consumer shaped for one test. */
export async function insertDepartment(db: Queryable, seed: DepartmentSeed): Promise<void> {
  const national = (seed.adminLevel ?? 'national') === 'national';
  await db.query(
    `INSERT INTO departments (code, name, kind, admin_level, jurisdiction_code, source_dept)
     VALUES ($1, $2, $3, $4, $5, 'PLATFORM')`,
    [
      seed.code,
      seed.name ?? seed.code,
      seed.kind ?? 'statistics',
      seed.adminLevel ?? 'national',
      national ? null : (seed.jurisdictionCode ?? null),
    ],
  );
  await db.query(
    `INSERT INTO api_keys (prefix, key_hash, department_code, application, roles)
     VALUES ($1, $2, $3, 'test', '{}')`,
    [seed.key.split('_').slice(0, 2).join('_'), sm3Hex(seed.key), seed.code],
  );
  await db.query(
    `INSERT INTO grants (department_code, dataset, max_level, purposes, granted_by)
     SELECT $1, g.dataset, g.level, '{}', 'test' FROM unnest($2::text[], $3::int[]) g(dataset, level)`,
    [seed.code, Object.keys(seed.grants), Object.values(seed.grants)],
  );
}
