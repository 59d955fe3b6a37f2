import { sql } from 'drizzle-orm';
import { DEMO_PRINCIPALS } from '../../src/access/demo.ts';
import { rows } from '../../src/db/index.ts';
import type { BenchContext } from './context.ts';
import { type Comparison, compare, timeEach } from './harness.ts';

const PERSON_BY_ID = `query($id: String!) { person(idNumber: $id) {
  name idNumber gender birthDate residenceDivisionCode residenceAddress phone } }`;
const RAW_PERSON_BY_ID = `SELECT name, id_number, gender, birth_date, residence_division_code, residence_address, phone
  FROM persons WHERE id_number = $1`;

const PERSONS_BY_DIVISION = `query($code: String!) { persons(divisionCode: $code, first: 100) {
  edges { node { name idNumber birthDate gender } } } }`;

/** person-by-ID and persons-by-division through the gateway against the same reads in raw SQL. */
export async function benchPopulationReads(ctx: BenchContext): Promise<Comparison[]> {
  const { db, gateway, post } = ctx;
  const ids = (
    await rows<{ idNumber: string }>(
      db,
      sql`SELECT id_number AS "idNumber" FROM persons TABLESAMPLE SYSTEM (5) LIMIT 2000`,
    )
  ).map((r) => r.idNumber);
  const counties = (
    await rows<{ code: string }>(
      db,
      sql`SELECT residence_division_code AS code FROM persons GROUP BY 1 ORDER BY count(*) DESC LIMIT 50`,
    )
  ).map((r) => r.code.slice(0, 6));
  const key = DEMO_PRINCIPALS.nationalPublicSecurity.key;
  const headers = { authorization: `Bearer ${key}`, 'x-purpose': 'criminal_investigation' };
  const n = Math.min(ids.length, ctx.quick ? 300 : 1500);

  const byId = await compare(
    'population',
    3,
    () =>
      timeEach('person(idNumber) via gateway', n, (i) =>
        post(gateway, PERSON_BY_ID, { id: ids[i % ids.length] }, headers),
      ),
    () => timeEach('same SELECT, raw SQL', n, (i) => db.query(RAW_PERSON_BY_ID, [ids[i % ids.length]])),
  );

  const byDivision = await compare(
    'population',
    3,
    () =>
      timeEach('persons(divisionCode, first: 100) via gateway', ctx.quick ? 50 : 200, (i) =>
        post(gateway, PERSONS_BY_DIVISION, { code: counties[i % counties.length] }, headers),
      ),
    () =>
      timeEach('same page, raw SQL', ctx.quick ? 50 : 200, (i) => {
        const code = counties[i % counties.length]!;
        return db.query(
          `SELECT name, id_number, birth_date, gender FROM persons
            WHERE residence_division_code BETWEEN $1 AND $2 ORDER BY id LIMIT 101`,
          [code, `${code}999999`],
        );
      }),
  );

  const accessCost = await compare(
    'access',
    3,
    () =>
      timeEach('person(idNumber): access + audit on', n, (i) =>
        post(gateway, PERSON_BY_ID, { id: ids[i % ids.length] }, headers),
      ),
    () =>
      timeEach('person(idNumber): access + audit off', n, (i) =>
        post(ctx.gatewayOpen, PERSON_BY_ID, { id: ids[i % ids.length] }, {}),
      ),
    'aim < 1.20',
  );
  return [byId, byDivision, accessCost];
}
