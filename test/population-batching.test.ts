import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_PRINCIPALS } from '../src/access/demo.ts';
import type { Gateway } from '../src/gateway/server.ts';
import { type TestDatabase, testDatabase } from '../src/testing/database.ts';
import { insertHousehold, insertPerson } from '../src/testing/factories.ts';
import { asKey, gql, testGateway } from '../src/testing/gateway.ts';

let db: TestDatabase;
let gateway: Gateway;

beforeAll(async () => {
  db = await testDatabase();
  gateway = await testGateway(db);
  // 60 two-person households, each person with a birth event and a residence.
  for (let i = 0; i < 60; i++) {
    const household = await insertHousehold(db, { number: `110105${String(i).padStart(6, '0')}` });
    const head = await insertPerson(db, { name: `王${i}`, gender: '1', householdId: household });
    const spouse = await insertPerson(db, { name: `李${i}`, gender: '2', householdId: household });
    await db.query(
      `INSERT INTO household_members (household_id, person_id, relation, valid_from, source_dept)
       VALUES ($1, $2, '02', '2000-01-01', 'MPS'), ($1, $3, '10', '2000-01-01', 'MPS');
       `,
      [household, head.id, spouse.id],
    );
    await db.query('UPDATE households SET head_person_id = $2 WHERE id = $1', [household, head.id]);
  }
  await db.query(
    `INSERT INTO vital_events (person_id, type, event_date, division_code, source_dept)
     SELECT id, 'birth', birth_date, hukou_division_code, 'MPS' FROM persons`,
  );
});
afterAll(() => db?.dispose());

const QUERY = `query($first: Int!) { persons(divisionCode: "110105", first: $first) { totalCount edges { node {
  name idNumber household { householdNumber head { name } members { relation person { name events { type } } } }
  events { type eventDate } residences { divisionCode } residenceDivision { name } } } } }`;

async function statementsFor(first: number): Promise<{ statements: number; persons: number }> {
  const before = db.counter.count;
  const r = await gql(
    gateway,
    QUERY,
    { first },
    asKey(DEMO_PRINCIPALS.nationalPublicSecurity.key, 'criminal_investigation'),
  );
  expect(r.errors).toBeUndefined();
  return { statements: db.counter.count - before, persons: r.data!.persons.edges.length };
}

describe('no N+1', () => {
  it('lists 50 persons with household, members, their events and residences in a bounded number of statements', async () => {
    await statementsFor(1); // authenticates once; the principal is then cached
    const small = await statementsFor(5);
    const large = await statementsFor(50);
    expect(small.persons).toBe(5);
    expect(large.persons).toBe(50);
    // page + count + households + members + member persons + events (x2) + residences + division, plus
    // the audit append (3): no more for 50 persons than for 5 (batches may split across ticks for 5).
    expect(large.statements).toBeLessThanOrEqual(small.statements);
    expect(large.statements).toBeLessThanOrEqual(14);
  });
});
