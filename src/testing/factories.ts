import { buildIdNumber } from '../codes/index.ts';
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

/** Inserts one consistent person (valid ID number for county, birth date and gender) and returns it. */
export async function insertPerson(db: Queryable, seed: PersonSeed = {}) {
  const gender = seed.gender ?? '2';
  const birthDate = seed.birthDate ?? '1980-05-17';
  const county = seed.county ?? '110105';
  let seq = seed.sequence ?? sequence++;
  if (seq % 2 !== (gender === '1' ? 1 : 0)) seq++;
  const idNumber = buildIdNumber(county, birthDate, seq % 1000);
  const residence = seed.residenceCounty ?? county;
  const [row] = await db.query<{ id: number }>(
    `INSERT INTO persons (id_number, name, gender, birth_date, ethnicity, hukou_division_code, hukou_address,
        residence_division_code, residence_address, residence_point, phone, household_id, status, death_date,
        marital_status, education, source_dept, source_batch)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9,
        CASE WHEN $10::float8 IS NULL THEN NULL ELSE ST_SetSRID(ST_Point($10, $11), 4490) END,
        $12, $13, $14, $15, '20', '20', 'MPS', 'test') RETURNING id`,
    [
      idNumber,
      seed.name ?? '王小红',
      gender,
      birthDate,
      seed.ethnicity ?? '01',
      seed.town ?? county,
      '北京市朝阳区建国路88号',
      residence,
      '北京市朝阳区建国路88号3栋2单元501室',
      seed.point === null ? null : (seed.point?.[0] ?? 116.46),
      seed.point === null ? null : (seed.point?.[1] ?? 39.91),
      seed.phone === undefined ? '13812345678' : seed.phone,
      seed.householdId ?? null,
      seed.status ?? 'alive',
      seed.deathDate ?? null,
    ],
  );
  await db.query(
    `INSERT INTO residences (person_id, division_code, address, point, valid_from, source_dept)
     SELECT id, residence_division_code, residence_address, residence_point, birth_date, 'MPS' FROM persons WHERE id = $1`,
    [row!.id],
  );
  return { id: Number(row!.id), idNumber, birthDate, gender, county };
}
