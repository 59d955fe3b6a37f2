import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_PRINCIPALS } from '../src/access/demo.ts';
import type { Gateway } from '../src/gateway/server.ts';
import { type TestDatabase, testDatabase } from '../src/testing/database.ts';
import { insertPerson } from '../src/testing/factories.ts';
import { asKey, gql, testGateway } from '../src/testing/gateway.ts';

const MPS = DEMO_PRINCIPALS.nationalPublicSecurity.key;

let db: TestDatabase;
let gateway: Gateway;
let alice: Awaited<ReturnType<typeof insertPerson>>;

beforeAll(async () => {
  db = await testDatabase();
  gateway = await testGateway(db);
  alice = await insertPerson(db, { name: '李爱丽', birthDate: '1949-12-31', gender: '2' });
});
afterAll(() => db?.dispose());

describe('divisions', () => {
  it('returns a division with parent, children, ancestors and a simplified boundary', async () => {
    const r = await gql(
      gateway,
      `{ division(code: "110105") { code name level parent { code name } ancestors { code }
      boundary(simplifyMetres: 500) } }`,
    );
    expect(r.errors).toBeUndefined();
    expect(r.data!.division).toMatchObject({
      code: '110105',
      name: '朝阳区',
      level: 'COUNTY',
      parent: { code: '110000' },
    });
    expect(r.data!.division.ancestors.map((a: { code: string }) => a.code)).toEqual(['110000']);
    expect(r.data!.division.boundary.type).toBe('MultiPolygon');
    const city = await gql(gateway, `{ division(code: "130100") { name children { code level } } }`);
    expect(city.data!.division.name).toBe('石家庄市');
    expect(city.data!.division.children.length).toBeGreaterThan(10);
  });

  it('rejects an unknown or malformed code with INVALID_DIVISION_CODE naming the argument', async () => {
    for (const code of ['999999', '11010', '110199']) {
      const r = await gql(gateway, `query($c: String!) { division(code: $c) { name } }`, { c: code });
      expect(r.errors?.[0]?.extensions?.code).toBe('INVALID_DIVISION_CODE');
      expect(r.errors?.[0]?.message).toContain("'code'");
    }
  });

  it('keeps abolished codes with their validity dates', async () => {
    const r = await gql(gateway, `{ division(code: "371200") { name validTo current } }`);
    expect(r.data!.division).toMatchObject({ name: '莱芜市', current: false });
    expect(r.data!.division.validTo).toMatch(/^\d{4}-\d{2}-\d{2}$/);
  });
});

describe('persons', () => {
  it('finds a person by ID number with purpose, and types a bad check digit', async () => {
    const ok = await gql(
      gateway,
      `query($id: String!) { person(idNumber: $id) { name idNumber gender birthDate age } }`,
      {
        id: alice.idNumber,
      },
      asKey(MPS, 'criminal_investigation'),
    );
    expect(ok.errors).toBeUndefined();
    expect(ok.data!.person).toMatchObject({
      name: '李爱丽',
      idNumber: alice.idNumber,
      gender: 'FEMALE',
      birthDate: '1949-12-31',
    });
    const bad = `${alice.idNumber.slice(0, 17)}${alice.idNumber.endsWith('1') ? '2' : '1'}`;
    const r = await gql(
      gateway,
      `query($id: String!) { person(idNumber: $id) { name } }`,
      { id: bad },
      asKey(MPS, 'criminal_investigation'),
    );
    expect(r.errors?.[0]?.extensions?.code).toBe('INVALID_ID_NUMBER');
    expect(r.errors?.[0]?.message).toContain("'idNumber'");
  });

  it('refuses a page size over the maximum instead of clamping it', async () => {
    const r = await gql(
      gateway,
      `{ persons(divisionCode: "110000", first: 100000) { totalCount } }`,
      {},
      asKey(MPS),
    );
    expect(r.errors?.[0]?.extensions?.code).toBe('PAGE_SIZE_TOO_LARGE');
  });

  it('lists persons in a subtree with filters and a total count', async () => {
    await insertPerson(db, { name: '张伟', gender: '1', birthDate: '2001-03-04' });
    const r = await gql(
      gateway,
      `{ persons(divisionCode: "110000", first: 1, filter: { gender: MALE }) { totalCount edges { node { name } }
         pageInfo { hasNextPage endCursor } } }`,
      {},
      asKey(MPS),
    );
    expect(r.errors).toBeUndefined();
    expect(r.data!.persons.totalCount).toBe(1);
    expect(r.data!.persons.edges[0].node.name).toBe('张伟');
  });

  it('answers verifyIdentity with nothing but the verdict', async () => {
    const q = `query($id: String!, $n: String!) { verifyIdentity(idNumber: $id, name: $n) }`;
    const key = asKey(DEMO_PRINCIPALS.countyCivilAffairs.key);
    expect((await gql(gateway, q, { id: alice.idNumber, n: '李爱丽' }, key)).data!.verifyIdentity).toBe(
      'MATCH',
    );
    expect((await gql(gateway, q, { id: alice.idNumber, n: '李爱' }, key)).data!.verifyIdentity).toBe(
      'NAME_MISMATCH',
    );
    expect((await gql(gateway, q, { id: '11010519491231002X', n: 'x' }, key)).data!.verifyIdentity).toBe(
      'NOT_FOUND',
    );
    expect((await gql(gateway, q, { id: '110105194912310021', n: 'x' }, key)).data!.verifyIdentity).toBe(
      'INVALID_ID_NUMBER',
    );
  });
});
