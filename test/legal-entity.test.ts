import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_PRINCIPALS } from '../src/access/demo.ts';
import { buildUscc, parseUscc, usccCheckChar } from '../src/codes/index.ts';
import type { Gateway } from '../src/gateway/server.ts';
import { updateEntity } from '../src/registries/legal-entity/entity-writes.ts';
import { beneficialOwners } from '../src/registries/legal-entity/ownership.ts';
import { type TestDatabase, testDatabase } from '../src/testing/database.ts';
import { insertPerson } from '../src/testing/factories.ts';
import { asKey, gql, testGateway } from '../src/testing/gateway.ts';
import { hold, nextUscc, registerEntity } from './legal-entity-fixtures.ts';

const SAMR = DEMO_PRINCIPALS.provincialMarketRegulation.key; // 440000, level 4, market_supervision
const CA = DEMO_PRINCIPALS.countyCivilAffairs.key; // 110105, level 2
const MPS = DEMO_PRINCIPALS.nationalPublicSecurity.key; // national, level 3
const PLATFORM = DEMO_PRINCIPALS.platformSteward.key; // national, level 4, data_governance

let db: TestDatabase;
let gateway: Gateway;

type Ref = { id: number; uscc: string };
type PersonRefT = Awaited<ReturnType<typeof insertPerson>>;
const e: Record<string, Ref> = {};
const p: Record<string, PersonRefT> = {};

/**
 * The hand-built ownership graph (percent of the entity's capital):
 *
 *   T ← A1 80 %, P3 20 %
 *   A1 ← A2 90 %, C1 10 %
 *   A2 ← A3 70 %, P? none (30 % unregistered)
 *   A3 ← A4 100 %
 *   A4 ← A5 60 %, 国资委 40 % (not a natural person)
 *   A5 ← P1 75 %, P2 25 %
 *   C1 ← C2 60 %, P3 40 %
 *   C2 ← P4 70 %, C1 30 %          (C1 ⇄ C2: a cycle)
 *
 * By hand, over simple paths from T:
 *   P1: .8 × .9 × .7 × 1 × .6 × .75 = 0.2268 (6 holdings deep)
 *   P2: .8 × .9 × .7 × 1 × .6 × .25 = 0.0756 (6 deep)
 *   P3: .2 (direct) + .8 × .1 × .4 = 0.2 + 0.032 = 0.232 (2 paths, shortest 1)
 *   P4: .8 × .1 × .6 × .7 = 0.0336 (the path T←A1←C1←C2←C1 is cut at the repeated C1)
 *
 *   X ← P6 50 %, Y 50 %;  Y ← P5 60 %, X 40 %  (X ⇄ Y)
 *   X's owners: P6 0.5; P5 .5 × .6 = 0.3 (the path back to X is cut)
 *
 *   D1 ← D2 60 %, P5 40 %;  D2 ← D1 70 %, P6 30 %  (control cycle)
 */
beforeAll(async () => {
  db = await testDatabase();
  gateway = await testGateway(db);
  for (const [key, name] of [
    ['P1', '赵一'],
    ['P2', '钱二'],
    ['P3', '孙三'],
    ['P4', '李四'],
    ['P5', '周五'],
    ['P6', '吴六'],
  ] as const) {
    // Distinct birth dates keep the factory's ID numbers apart.
    const n = Object.keys(p).length;
    p[key] = await insertPerson(db, {
      name,
      county: '440305',
      birthDate: `197${n}-03-0${n + 1}`,
      point: [113.93, 22.53],
    });
  }
  p.chaoyang = await insertPerson(db, { name: '王朝阳', county: '110105', birthDate: '1985-01-01' });

  const names: Record<string, string> = {
    T: '深圳市华景电子科技有限公司',
    A1: '深圳市恒达投资管理有限公司',
    A2: '深圳市宏源控股有限公司',
    A3: '深圳市鑫瑞实业有限公司',
    A4: '深圳市泰盛投资有限公司',
    A5: '深圳市德嘉控股有限公司',
    C1: '深圳市安丰贸易有限公司',
    C2: '深圳市福博商贸有限公司',
    X: '深圳市天中科技有限公司',
    Y: '深圳市新金科技有限公司',
    D1: '深圳市明海物业管理有限公司',
    D2: '深圳市永宇物业管理有限公司',
  };
  for (const [key, name] of Object.entries(names)) {
    e[key] = await registerEntity(db, {
      name,
      legalRep: { personId: p.P1!.id },
      totalAssets: '52000000.00',
      assetBand: '10m_100m',
      industryCode: key === 'T' ? 'C3911' : 'L7212',
    });
  }
  const person = (k: string) => ({ id: p[k]!.id, kind: 'person' as const });
  await hold(db, e.T!, e.A1!, 80);
  await hold(db, e.T!, person('P3'), 20);
  await hold(db, e.A1!, e.A2!, 90);
  await hold(db, e.A1!, e.C1!, 10);
  await hold(db, e.A2!, e.A3!, 70);
  await hold(db, e.A3!, e.A4!, 100);
  await hold(db, e.A4!, e.A5!, 60);
  await hold(db, e.A4!, { name: '深圳市人民政府国有资产监督管理委员会' }, 40);
  await hold(db, e.A5!, person('P1'), 75);
  await hold(db, e.A5!, person('P2'), 25);
  await hold(db, e.C1!, e.C2!, 60);
  await hold(db, e.C1!, person('P3'), 40);
  await hold(db, e.C2!, person('P4'), 70);
  await hold(db, e.C2!, e.C1!, 30);
  await hold(db, e.X!, person('P6'), 50);
  await hold(db, e.X!, e.Y!, 50);
  await hold(db, e.Y!, person('P5'), 60);
  await hold(db, e.Y!, e.X!, 40);
  await hold(db, e.D1!, e.D2!, 60);
  await hold(db, e.D1!, person('P5'), 40);
  await hold(db, e.D2!, e.D1!, 70);
  await hold(db, e.D2!, person('P6'), 30);
  // A branch of T and a Beijing entity.
  e.branch = await registerEntity(db, {
    name: '深圳市华景电子科技有限公司福田分公司',
    legalForm: 'branch',
    divisionCode: '440304',
    parentEntityId: e.T!.id,
    parentRelation: 'branch',
    registeredCapital: null,
  });
  e.beijing = await registerEntity(db, {
    name: '北京朝阳华景商贸有限公司',
    divisionCode: '110105',
    registrationAuthority: '北京市朝阳区市场监督管理局',
    address: '北京市朝阳区建国路88号',
    point: [116.46, 39.91],
    legalRep: { personId: p.chaoyang!.id },
    totalAssets: '1000.00',
  });
});
afterAll(() => db?.dispose());

describe('entity by USCC', () => {
  it('finds an entity by a valid code, with its representative and branches', async () => {
    const r = await gql(
      gateway,
      `query($u: String!) { entity(uscc: $u) { uscc name usccStatus registrationDept registrationDeptName category
         categoryName legalForm status legalRepresentativeName legalRepresentative { name }
         branches { name parentRelation parent { uscc } } division { name } } }`,
      { u: e.T!.uscc },
      asKey(SAMR, 'market_supervision'),
    );
    expect(r.errors).toBeUndefined();
    expect(r.data!.entity).toMatchObject({
      uscc: e.T!.uscc,
      name: '深圳市华景电子科技有限公司',
      usccStatus: 'VALID',
      registrationDept: '9',
      registrationDeptName: '工商',
      categoryName: '企业',
      legalForm: 'LIMITED_LIABILITY_COMPANY',
      status: 'ACTIVE',
      legalRepresentativeName: '赵一',
      // SAMR-440000 holds persons at level 2: names are masked.
      legalRepresentative: { name: '赵*' },
      division: { name: '南山区' },
    });
    expect(r.data!.entity.branches).toEqual([
      { name: '深圳市华景电子科技有限公司福田分公司', parentRelation: 'BRANCH', parent: { uscc: e.T!.uscc } },
    ]);
  });

  it('rejects a wrong check character with INVALID_USCC naming the argument', async () => {
    const valid = e.T!.uscc;
    const wrong = valid.slice(0, 17) + (valid[17] === '0' ? '1' : '0');
    const r = await gql(
      gateway,
      `query($u: String!) { entity(uscc: $u) { name } }`,
      { u: wrong },
      asKey(SAMR),
    );
    expect(r.errors?.[0]?.extensions?.code).toBe('INVALID_USCC');
    expect(r.errors?.[0]?.message).toContain("'uscc'");
    expect(r.errors?.[0]?.message).toContain('check character');
    const short = await gql(gateway, `{ entity(uscc: "91440300MA5") { name } }`, {}, asKey(SAMR));
    expect(short.errors?.[0]?.extensions?.code).toBe('INVALID_USCC');
  });

  it('accepts a pilot-era code whose embedded organisation code fails its check, and flags it', async () => {
    // A clean code; then a wrong organisation-code check (pos 17) with a repaired final check (pos 18).
    const clean = buildUscc('9', '1', '440305', 'M0001PQL');
    const orgCheck = clean[16]!;
    const first17 = clean.slice(0, 16) + (orgCheck === '1' ? '2' : '1');
    const pilot = first17 + usccCheckChar(first17);
    const parsed = parseUscc(pilot);
    expect(parsed.ok && parsed.value.pilotException).toBe(true);
    await registerEntity(db, { uscc: pilot, name: '深圳市试点登记有限公司' });
    const r = await gql(
      gateway,
      `query($u: String!) { entity(uscc: $u) { name usccStatus } }`,
      { u: pilot.toLowerCase() },
      asKey(SAMR),
    );
    expect(r.errors).toBeUndefined();
    expect(r.data!.entity).toEqual({ name: '深圳市试点登记有限公司', usccStatus: 'PILOT_EXCEPTION' });
  });

  it('refuses to register a bad code through the write path, but loads it flagged when told to', async () => {
    const valid = nextUscc();
    const bad = valid.slice(0, 17) + (valid[17] === '0' ? '1' : '0');
    await expect(registerEntity(db, { uscc: bad, name: '错误代码有限公司' })).rejects.toMatchObject({
      code: 'INVALID_USCC',
    });
    const { insertEntities } = await import('../src/registries/legal-entity/entity-writes.ts');
    await insertEntities(
      db,
      [
        {
          uscc: bad,
          name: '历史数据有限公司',
          legalForm: 'limited_liability_company',
          establishedOn: '2001-01-01',
          divisionCode: '440305',
          registrationAuthority: '深圳市南山区市场监督管理局',
        },
      ],
      { dept: 'SAMR', batch: 'legacy' },
      { acceptDefects: true },
    );
    const [row] = await db.query<{ uscc_status: string }>(
      'SELECT uscc_status FROM entities WHERE uscc = $1',
      [bad],
    );
    expect(row!.uscc_status).toBe('invalid');
  });

  it('answers an entity outside the jurisdiction with OUT_OF_JURISDICTION', async () => {
    const r = await gql(
      gateway,
      `query($u: String!) { entity(uscc: $u) { name } }`,
      { u: e.T!.uscc },
      asKey(CA),
    );
    expect(r.errors?.[0]?.extensions?.code).toBe('OUT_OF_JURISDICTION');
    const own = await gql(
      gateway,
      `query($u: String!) { entity(uscc: $u) { name } }`,
      { u: e.beijing!.uscc },
      asKey(CA),
    );
    expect(own.data!.entity.name).toBe('北京朝阳华景商贸有限公司');
  });
});

describe('field access from the catalogue', () => {
  const q = `query($u: String!) { entity(uscc: $u) { name legalRepresentativeIdNumber } }`;
  const assets = `query($u: String!) { entity(uscc: $u) { name totalAssets } }`;

  it('serves the publicised fields to the public and nothing else', async () => {
    const r = await gql(
      gateway,
      `query($u: String!) { entity(uscc: $u) { name uscc status legalRepresentativeName } }`,
      {
        u: e.T!.uscc,
      },
    );
    expect(r.errors).toBeUndefined();
    expect(r.data!.entity.legalRepresentativeName).toBe('赵一');
    const id = await gql(gateway, q, { u: e.T!.uscc });
    expect(id.errors?.[0]?.extensions?.code).toBe('FORBIDDEN_FIELD');
    const secret = await gql(gateway, assets, { u: e.T!.uscc });
    expect(secret.errors?.[0]?.extensions?.code).toBe('FORBIDDEN_FIELD');
  });

  it("masks the representative's ID number at level 3 and shows it at level 4 with a purpose", async () => {
    const masked = await gql(gateway, q, { u: e.T!.uscc }, asKey(MPS));
    expect(masked.data!.entity.legalRepresentativeIdNumber).toBe(
      `${p.P1!.idNumber.slice(0, 6)}********${p.P1!.idNumber.slice(-4)}`,
    );
    const clear = await gql(gateway, q, { u: e.T!.uscc }, asKey(SAMR, 'market_supervision'));
    expect(clear.data!.entity.legalRepresentativeIdNumber).toBe(p.P1!.idNumber);
    const noPurpose = await gql(gateway, q, { u: e.T!.uscc }, asKey(SAMR));
    expect(noPurpose.errors?.[0]?.extensions?.code).toBe('PURPOSE_REQUIRED');
  });

  it('treats asset figures as conditional trade secrets', async () => {
    const noPurpose = await gql(gateway, assets, { u: e.T!.uscc }, asKey(SAMR));
    expect(noPurpose.errors?.[0]?.extensions?.code).toBe('PURPOSE_REQUIRED');
    const other = await gql(gateway, assets, { u: e.T!.uscc }, asKey(SAMR, 'social_assistance'));
    expect(other.errors?.[0]?.extensions?.code).toBe('PURPOSE_NOT_APPROVED');
    const ok = await gql(gateway, assets, { u: e.T!.uscc }, asKey(SAMR, 'market_supervision'));
    expect(ok.data!.entity.totalAssets).toBe('52000000.00');
    const low = await gql(gateway, assets, { u: e.beijing!.uscc }, asKey(CA, 'social_assistance'));
    expect(low.errors?.[0]?.extensions?.code).toBe('FORBIDDEN_FIELD');
  });

  it('records the representative as an audit subject when the ID number is read', async () => {
    await gql(gateway, q, { u: e.T!.uscc }, asKey(SAMR, 'market_supervision'));
    const [row] = await db.query<{ subjects: string[] }>(
      `SELECT subjects FROM audit_log WHERE fields ? 'Entity.legalRepresentativeIdNumber' ORDER BY seq DESC LIMIT 1`,
    );
    expect(row!.subjects).toContain(`person:${p.P1!.id}`);
  });
});

describe('ownership', () => {
  const ubo = `query($u: String!, $t: Float, $d: Int) { entity(uscc: $u) {
    ultimateBeneficialOwners(threshold: $t, maxDepth: $d) { name share percentage paths shortestDepth person { name } } } }`;

  it('computes beneficial owners over a 6-level chain and a cycle, as by hand', async () => {
    const r = await gql(gateway, ubo, { u: e.T!.uscc, t: 0 }, asKey(PLATFORM, 'data_governance'));
    expect(r.errors).toBeUndefined();
    const owners = r.data!.entity.ultimateBeneficialOwners as {
      name: string;
      share: number;
      paths: number;
      shortestDepth: number;
      person: { name: string } | null;
    }[];
    expect(owners.map((o) => o.name)).toEqual(['孙三', '赵一', '钱二', '李四']);
    const byName = Object.fromEntries(owners.map((o) => [o.name, o]));
    expect(byName.孙三!.share).toBeCloseTo(0.232, 12);
    expect(byName.孙三).toMatchObject({ paths: 2, shortestDepth: 1 });
    expect(byName.赵一!.share).toBeCloseTo(0.2268, 12);
    expect(byName.赵一).toMatchObject({ paths: 1, shortestDepth: 6, person: { name: '赵一' } });
    expect(byName.钱二!.share).toBeCloseTo(0.0756, 12);
    expect(byName.李四!.share).toBeCloseTo(0.0336, 12);
    expect(byName.李四!.shortestDepth).toBe(4);
  });

  it('applies the threshold and the depth limit', async () => {
    const names = async (t: number, d: number) => {
      const r = await gql(gateway, ubo, { u: e.T!.uscc, t, d }, asKey(PLATFORM, 'data_governance'));
      expect(r.errors).toBeUndefined();
      return (r.data!.entity.ultimateBeneficialOwners as { name: string }[]).map((o) => o.name);
    };
    expect(await names(0.25, 10)).toEqual([]);
    expect(await names(0.1, 10)).toEqual(['孙三', '赵一']);
    expect(await names(0.05, 10)).toEqual(['孙三', '赵一', '钱二']);
    // Five holdings deep does not reach A5's holders.
    expect(await names(0, 5)).toEqual(['孙三', '李四']);
  });

  it('handles a cross-holding with the target itself', async () => {
    const [owners] = await beneficialOwners(db, [e.X!.id], 0, 10);
    expect(owners!.map((o) => [o.name, Number(o.share.toFixed(12))])).toEqual([
      ['吴六', 0.5],
      ['周五', 0.3],
    ]);
  });

  it('rejects a depth over 20 and a threshold outside 0..1 with INVALID_ARGUMENT', async () => {
    const deep = await gql(gateway, ubo, { u: e.T!.uscc, t: 0.25, d: 21 }, asKey(PLATFORM));
    expect(deep.errors?.[0]?.extensions?.code).toBe('INVALID_ARGUMENT');
    expect(deep.errors?.[0]?.message).toContain("'maxDepth'");
    const share = await gql(gateway, ubo, { u: e.T!.uscc, t: 25, d: 5 }, asKey(PLATFORM));
    expect(share.errors?.[0]?.extensions?.code).toBe('INVALID_ARGUMENT');
  });

  it('keeps beneficial ownership from callers below the restricted level', async () => {
    const r = await gql(gateway, ubo, { u: e.beijing!.uscc, t: 0.25 }, asKey(CA));
    expect(r.errors?.[0]?.extensions?.code).toBe('FORBIDDEN_FIELD');
  });

  it('follows the control chain up to a person, and stops at a cycle', async () => {
    const q = `query($u: String!) { entity(uscc: $u) { controlChain { depth controllerKind controllerName percentage
      cumulativeShare closesCycle controllerEntity { name } } } }`;
    const r = await gql(gateway, q, { u: e.T!.uscc }, asKey(PLATFORM));
    expect(r.errors).toBeUndefined();
    const chain = r.data!.entity.controlChain as { controllerName: string; cumulativeShare: number }[];
    expect(chain.map((s) => s.controllerName)).toEqual([
      '深圳市恒达投资管理有限公司',
      '深圳市宏源控股有限公司',
      '深圳市鑫瑞实业有限公司',
      '深圳市泰盛投资有限公司',
      '深圳市德嘉控股有限公司',
      '赵一',
    ]);
    expect(chain.at(-1)).toMatchObject({ controllerKind: 'PERSON', percentage: 75, closesCycle: false });
    expect(chain.at(-1)!.cumulativeShare).toBeCloseTo(0.2268, 12);
    const cycle = await gql(gateway, q, { u: e.D1!.uscc }, asKey(PLATFORM));
    expect(cycle.data!.entity.controlChain).toMatchObject([
      { depth: 1, controllerName: '深圳市永宇物业管理有限公司', percentage: 60, closesCycle: false },
      { depth: 2, controllerName: '深圳市明海物业管理有限公司', percentage: 70, closesCycle: true },
    ]);
    // A 50/50 split is joint control: no controller.
    const tie = await gql(gateway, q, { u: e.X!.uscc }, asKey(PLATFORM));
    expect(tie.data!.entity.controlChain).toEqual([]);
  });

  it('lists the ownership neighbourhood with distance and direction', async () => {
    const r = await gql(
      gateway,
      `query($u: String!) { entity(uscc: $u) { relatedEntities(depth: 2) { distance direction entity { name } } } }`,
      { u: e.C1!.uscc },
      asKey(PLATFORM),
    );
    expect(r.errors).toBeUndefined();
    const related = (
      r.data!.entity.relatedEntities as { distance: number; direction: string; entity: { name: string } }[]
    ).map((x) => [x.entity.name, x.distance, x.direction]);
    expect(related).toEqual(
      expect.arrayContaining([
        ['深圳市恒达投资管理有限公司', 1, 'INVESTEE'],
        ['深圳市福博商贸有限公司', 1, 'MIXED'],
        ['深圳市华景电子科技有限公司', 2, 'INVESTEE'],
        ['深圳市宏源控股有限公司', 2, 'MIXED'],
      ]),
    );
    expect(related).toHaveLength(4);
  });

  it('links shareholders, investments and persons both ways', async () => {
    const r = await gql(
      gateway,
      `query($u: String!) { entity(uscc: $u) {
         shareholders { shareholderKind shareholderName percentage shareholderEntity { name } shareholderPerson { id } }
         investments { entity { name } percentage } } }`,
      { u: e.A1!.uscc },
      asKey(MPS, 'criminal_investigation'),
    );
    expect(r.errors).toBeUndefined();
    expect(r.data!.entity.shareholders).toMatchObject([
      { shareholderKind: 'ENTITY', shareholderName: '深圳市宏源控股有限公司', percentage: 90 },
      { shareholderKind: 'ENTITY', shareholderName: '深圳市安丰贸易有限公司', percentage: 10 },
    ]);
    expect(r.data!.entity.investments).toEqual([
      { entity: { name: '深圳市华景电子科技有限公司' }, percentage: 80 },
    ]);
    const person = await gql(
      gateway,
      `query($id: String!) { person(idNumber: $id) { name representedEntities { name } investments { percentage entity { name } } } }`,
      { id: p.P3!.idNumber },
      asKey(MPS, 'criminal_investigation'),
    );
    expect(person.errors).toBeUndefined();
    expect(person.data!.person.investments).toEqual([
      { percentage: 40, entity: { name: '深圳市安丰贸易有限公司' } },
      { percentage: 20, entity: { name: '深圳市华景电子科技有限公司' } },
    ]);
    const rep = await gql(
      gateway,
      `query($id: String!) { person(idNumber: $id) { representedEntities { name } } }`,
      { id: p.P1!.idNumber },
      asKey(MPS, 'criminal_investigation'),
    );
    expect((rep.data!.person.representedEntities as unknown[]).length).toBe(12);
  });
});

describe('lists and search', () => {
  it('lists entities by division subtree and filters, as a connection with a total', async () => {
    const q = `query($d: String, $f: EntityFilter, $after: String) { entities(divisionCode: $d, filter: $f, first: 5, after: $after) {
      totalCount edges { cursor node { name } } pageInfo { hasNextPage endCursor } } }`;
    const r = await gql(gateway, q, { d: '440300', f: { industry: 'L72', status: ['ACTIVE'] } }, asKey(SAMR));
    expect(r.errors).toBeUndefined();
    expect(r.data!.entities.totalCount).toBe(11);
    expect(r.data!.entities.edges).toHaveLength(5);
    const page2 = await gql(
      gateway,
      q,
      { d: '440300', f: { industry: 'L72', status: ['ACTIVE'] }, after: r.data!.entities.pageInfo.endCursor },
      asKey(SAMR),
    );
    expect(page2.data!.entities.edges[0].node.name).not.toBe(r.data!.entities.edges[0].node.name);
    const branches = await gql(gateway, q, { d: '440304', f: { legalForm: ['BRANCH'] } }, asKey(SAMR));
    expect(branches.data!.entities.totalCount).toBe(1);
    const dated = await gql(
      gateway,
      q,
      { f: { establishedFrom: '2015-06-01', establishedTo: '2015-06-01' } },
      asKey(CA),
    );
    // The county department sees only its own county.
    expect(dated.data!.entities.totalCount).toBe(1);
    const outside = await gql(gateway, q, { d: '440300' }, asKey(CA));
    expect(outside.errors?.[0]?.extensions?.code).toBe('OUT_OF_JURISDICTION');
  });

  it('searches Chinese names by substring and by trigram similarity, ranked', async () => {
    const q = `query($n: String!) { searchEntities(name: $n, first: 5) { totalCount edges { score node { name } } } }`;
    const r = await gql(gateway, q, { n: '华景' }, asKey(SAMR));
    expect(r.errors).toBeUndefined();
    const names = (r.data!.searchEntities.edges as { node: { name: string } }[]).map((x) => x.node.name);
    // Shorter names containing the text rank higher; the Beijing one is out of the jurisdiction.
    expect(names).toEqual(['深圳市华景电子科技有限公司', '深圳市华景电子科技有限公司福田分公司']);
    const typo = await gql(gateway, q, { n: '深圳市华景电子科枝有限公司' }, asKey(SAMR));
    expect(typo.data!.searchEntities.edges[0].node.name).toBe('深圳市华景电子科技有限公司');
    expect(typo.data!.searchEntities.edges[0].score).toBeLessThan(1);
    const short = await gql(gateway, q, { n: '华' }, asKey(SAMR));
    expect(short.errors?.[0]?.extensions?.code).toBe('INVALID_ARGUMENT');
  });

  it('finds an entity by a former name after a rename', async () => {
    await updateEntity(db, e.Y!.uscc, { name: '深圳市新金数码科技有限公司' }, { dept: 'SAMR' }, '2024-03-01');
    const r = await gql(
      gateway,
      `{ searchEntities(name: "新金科技", first: 3) { edges { node { name formerNames { name validTo } } } } }`,
      {},
      asKey(SAMR),
    );
    expect(r.errors).toBeUndefined();
    expect(r.data!.searchEntities.edges[0].node).toEqual({
      name: '深圳市新金数码科技有限公司',
      formerNames: [{ name: '深圳市新金科技有限公司', validTo: '2024-03-01' }],
    });
  });
});

describe('statement counts', () => {
  it('loads entity → shareholders → their shareholders in a bounded number of statements', async () => {
    // 50 entities, each held by two holding companies, each of those held by two persons.
    const holders: Ref[] = [];
    for (let i = 0; i < 4; i++) {
      const h = await registerEntity(db, { name: `深圳市批量控股${i}有限公司`, divisionCode: '440306' });
      await hold(db, h, { id: p.P1!.id, kind: 'person' }, 50);
      await hold(db, h, { id: p.P2!.id, kind: 'person' }, 50);
      holders.push(h);
    }
    for (let i = 0; i < 50; i++) {
      const sub = await registerEntity(db, { name: `深圳市批量子公司${i}有限公司`, divisionCode: '440307' });
      await hold(db, sub, holders[i % 4]!, 60);
      await hold(db, sub, holders[(i + 1) % 4]!, 40);
    }
    const q = `query($n: Int) { entities(divisionCode: "440307", first: $n) { edges { node { name
      shareholders { percentage shareholderEntity { name shareholders { shareholderName shareholderPerson { id } } } } } } } }`;
    const run = async (n: number) => {
      const before = db.counter.count;
      const r = await gql(gateway, q, { n }, asKey(PLATFORM));
      expect(r.errors).toBeUndefined();
      expect(r.data!.entities.edges).toHaveLength(n);
      return db.counter.count - before;
    };
    await run(1); // warm the principal cache
    const one = await run(1);
    const fifty = await run(50);
    expect(fifty).toBe(one);
    expect(fifty).toBeLessThanOrEqual(12);
  });
});
