import { addDepartment, addGrant, createKey } from '../src/access/admin.ts';
import { buildIdNumber } from '../src/codes/index.ts';
import { atRest } from '../src/crypto/at-rest.ts';
import type { Database, Queryable } from '../src/db/index.ts';

/**
 * Shared data for the access tests (matrix, fuzz): persons with every classified field filled with a
 * distinctive value, in Beijing Chaoyang (110105) and Guangzhou Tianhe (440106), with households,
 * members, residence histories and vital events. Coordinates lie off the 0.01° grid and every address,
 * phone and ID number is unique, so a clear value can be told from its masked form in any response.
 */

export interface ResidenceSeed {
  division: string;
  address: string;
  point: [number, number];
  from: string;
  to: string | null;
}

export interface PersonSeed {
  key: string;
  name: string;
  gender: '1' | '2';
  birthDate: string;
  idCounty: string;
  sequence: number;
  ethnicity: string;
  hukou: string;
  hukouAddress: string;
  residence: string;
  residenceAddress: string;
  point: [number, number];
  maritalStatus: string;
  education: string;
  phone: string;
  status: 'alive' | 'deceased';
  deathDate: string | null;
  /** Past residences; the current one (from the person's columns) is added last. */
  history: ResidenceSeed[];
  movedInOn: string;
  household: string | null;
  events: { type: string; date: string; division: string }[];
}

export interface HouseholdSeed {
  number: string;
  division: string;
  address: string;
  head: string;
}

export const HOUSEHOLDS: HouseholdSeed[] = [
  { number: '110105000001', division: '110105', address: '北京市朝阳区建国路88号', head: 'A' },
  { number: '440106000001', division: '440106', address: '广东省广州市天河区天河路385号', head: 'B' },
];

const filler = (
  key: string,
  gender: '1' | '2',
  county: string,
  sequence: number,
  address: string,
  point: [number, number],
  phone: string,
): PersonSeed => ({
  key,
  name: gender === '1' ? '赵志明' : '孙晓燕',
  gender,
  birthDate: '1995-08-21',
  idCounty: county,
  sequence,
  ethnicity: '01',
  hukou: county,
  hukouAddress: county === '110105' ? '北京市朝阳区朝阳路1号' : '广东省广州市天河区天府路1号',
  residence: county,
  residenceAddress: address,
  point,
  maritalStatus: '10',
  education: '21',
  phone,
  status: 'alive',
  deathDate: null,
  history: [],
  movedInOn: '2019-05-01',
  household: null,
  events: [],
});

export const PERSONS: PersonSeed[] = [
  {
    key: 'A',
    name: '李爱丽',
    gender: '2',
    birthDate: '1985-03-17',
    idCounty: '110105',
    sequence: 124,
    ethnicity: '01',
    hukou: '110105',
    hukouAddress: '北京市朝阳区建国路88号',
    residence: '110105',
    residenceAddress: '北京市朝阳区望京街道阜通东大街6号院3号楼2单元501室',
    point: [116.4637281, 39.9127463],
    maritalStatus: '20',
    education: '21',
    phone: '13812345678',
    status: 'deceased',
    deathDate: '2024-02-29',
    history: [
      {
        division: '440106',
        address: '广东省广州市天河区林和西路9号耀中广场3308室',
        point: [113.3301234, 23.1432109],
        from: '2003-09-01',
        to: '2012-06-30',
      },
    ],
    movedInOn: '2012-07-01',
    household: '110105000001',
    events: [
      { type: 'birth', date: '1985-03-17', division: '110105' },
      { type: 'move_in', date: '2012-07-01', division: '110105' },
    ],
  },
  {
    key: 'B',
    name: '陈志强',
    gender: '1',
    birthDate: '1972-11-05',
    idCounty: '440106',
    sequence: 357,
    ethnicity: '03',
    hukou: '440106',
    hukouAddress: '广东省广州市天河区天河路385号',
    residence: '440106',
    residenceAddress: '广东省广州市天河区体育西路103号维多利广场B座2708室',
    point: [113.3245187, 23.1367413],
    maritalStatus: '20',
    education: '31',
    phone: '13987654321',
    status: 'alive',
    deathDate: null,
    history: [
      {
        division: '440106',
        address: '广东省广州市天河区天河北路233号中信广场6201室',
        point: [113.3312347, 23.1456783],
        from: '1995-01-01',
        to: '2015-12-31',
      },
    ],
    movedInOn: '2016-01-01',
    household: '440106000001',
    events: [
      { type: 'birth', date: '1972-11-05', division: '440106' },
      { type: 'marriage', date: '1998-10-01', division: '440106' },
    ],
  },
  {
    // Registered in Chaoyang, living in Tianhe: in the Chaoyang department's scope by registration.
    key: 'C',
    name: '王建国',
    gender: '1',
    birthDate: '1990-07-01',
    idCounty: '110105',
    sequence: 471,
    ethnicity: '01',
    hukou: '110105',
    hukouAddress: '北京市朝阳区三里屯路19号',
    residence: '440106',
    residenceAddress: '广东省广州市天河区珠江新城花城大道85号高德置地广场A座1503室',
    point: [113.3267391, 23.1198764],
    maritalStatus: '10',
    education: '21',
    phone: '15011223344',
    status: 'alive',
    deathDate: null,
    history: [],
    movedInOn: '2018-03-01',
    household: null,
    events: [],
  },
  filler(
    'S1',
    '2',
    '110105',
    202,
    '北京市朝阳区酒仙桥路14号院7号楼1103室',
    [116.4912437, 39.9681273],
    '13600001111',
  ),
  filler(
    'S2',
    '2',
    '110105',
    204,
    '北京市朝阳区东三环北路27号嘉铭中心1906室',
    [116.4611793, 39.9312871],
    '13600002222',
  ),
  filler(
    'S3',
    '1',
    '110105',
    207,
    '北京市朝阳区工人体育场北路13号院2号楼803室',
    [116.4473519, 39.9337127],
    '13600003333',
  ),
  filler(
    'S4',
    '2',
    '440106',
    212,
    '广东省广州市天河区黄埔大道西100号富力盈泰广场1207室',
    [113.3376541, 23.1289873],
    '13600004444',
  ),
];

export interface SeededPerson {
  seed: PersonSeed;
  id: number;
  idNumber: string;
  householdId: number | null;
  /** Residences in the order the API returns them (oldest first). */
  residences: ResidenceSeed[];
}

export interface Seeded {
  persons: Record<string, SeededPerson>;
  households: Record<string, { id: number; seed: HouseholdSeed }>;
}

/** Inserts the fixture persons and everything hanging off them. */
export async function seedAccessFixtures(db: Queryable): Promise<Seeded> {
  // Sensitive fields are stored encrypted, as every write path does (src/crypto/at-rest.ts).
  const codec = await atRest(db);
  const households: Seeded['households'] = {};
  for (const h of HOUSEHOLDS) {
    const a = codec.encodeRow('households', { address: h.address });
    const [row] = await db.query<{ id: number }>(
      `INSERT INTO households (household_number, type, division_code, address, address_bidx, source_dept,
          source_batch)
       VALUES ($1, 'family', $2, $3, $4, 'MPS', 'access-fixture') RETURNING id`,
      [h.number, h.division, a.address, a.address_bidx],
    );
    households[h.number] = { id: Number(row!.id), seed: h };
  }
  const persons: Seeded['persons'] = {};
  for (const p of PERSONS) {
    const idNumber = buildIdNumber(p.idCounty, p.birthDate, p.sequence);
    const householdId = p.household ? households[p.household]!.id : null;
    const e = codec.encodeRow('persons', {
      id_number: idNumber,
      hukou_address: p.hukouAddress,
      residence_address: p.residenceAddress,
      phone: p.phone,
    });
    const [row] = await db.query<{ id: number }>(
      `INSERT INTO persons (id_number, id_number_bidx, name, gender, birth_date, ethnicity, nationality,
          hukou_division_code, hukou_address, hukou_address_bidx, residence_division_code, residence_address,
          residence_address_bidx, residence_point, marital_status, education, phone, phone_bidx, status,
          death_date, household_id, source_dept, source_batch)
       VALUES ($1, $2, $3, $4, $5, $6, 'CHN', $7, $8, $9, $10, $11, $12, ST_SetSRID(ST_Point($13, $14), 4490),
          $15, $16, $17, $18, $19, $20, $21, 'MPS', 'access-fixture') RETURNING id`,
      [
        e.id_number,
        e.id_number_bidx,
        p.name,
        p.gender,
        p.birthDate,
        p.ethnicity,
        p.hukou,
        e.hukou_address,
        e.hukou_address_bidx,
        p.residence,
        e.residence_address,
        e.residence_address_bidx,
        p.point[0],
        p.point[1],
        p.maritalStatus,
        p.education,
        e.phone,
        e.phone_bidx,
        p.status,
        p.deathDate,
        householdId,
      ],
    );
    const id = Number(row!.id);
    const residences: ResidenceSeed[] = [
      ...p.history,
      { division: p.residence, address: p.residenceAddress, point: p.point, from: p.movedInOn, to: null },
    ];
    for (const r of residences) {
      const a = codec.encodeRow('residences', { address: r.address });
      await db.query(
        `INSERT INTO residences (person_id, division_code, address, address_bidx, point, valid_from, valid_to,
            source_dept)
         VALUES ($1, $2, $3, $4, ST_SetSRID(ST_Point($5, $6), 4490), $7, $8, 'MPS')`,
        [id, r.division, a.address, a.address_bidx, r.point[0], r.point[1], r.from, r.to],
      );
    }
    for (const e of p.events) {
      await db.query(
        `INSERT INTO vital_events (person_id, type, event_date, division_code, source_dept)
         VALUES ($1, $2, $3, $4, 'MPS')`,
        [id, e.type, e.date, e.division],
      );
    }
    persons[p.key] = { seed: p, id, idNumber, householdId, residences };
  }
  for (const h of HOUSEHOLDS) {
    const head = persons[h.head]!;
    await db.query('UPDATE households SET head_person_id = $1 WHERE household_number = $2', [
      head.id,
      h.number,
    ]);
    await db.query(
      `INSERT INTO household_members (household_id, person_id, relation, valid_from, source_dept)
       VALUES ($1, $2, '02', $3, 'MPS')`,
      [households[h.number]!.id, head.id, head.seed.movedInOn],
    );
  }
  return { persons, households };
}

/** The clear values a response must never show to a caller without the right to them. */
export function sensitiveSecrets(seeded: Seeded): string[] {
  const secrets: string[] = [];
  const coordinate = (v: number) => v.toFixed(7).replace(/0+$/, '');
  for (const p of Object.values(seeded.persons)) {
    secrets.push(p.idNumber, p.seed.phone);
    for (const r of p.residences) {
      secrets.push(r.address, coordinate(r.point[0]), coordinate(r.point[1]));
      // Anything finer than the masked 0.01° cell: the first three decimals already say too much.
      secrets.push(r.point[0].toFixed(4), r.point[1].toFixed(4));
    }
  }
  return [...new Set(secrets)];
}

/** Relay global id, as the Person node serves it. */
export function globalId(type: string, id: number): string {
  return Buffer.from(`${type}:${id}`).toString('base64');
}

/**
 * Extra departments made with the admin module: one registered without any grant, and a county public
 * security bureau with clear access to ID numbers (to reach OUT_OF_JURISDICTION past the filter rule).
 */
export async function seedExtraDepartments(
  db: Database,
): Promise<{ noGrantKey: string; countyPoliceKey: string }> {
  await addDepartment(db, {
    code: 'TEST-NOGRANT',
    name: '测试部门（无授权）',
    kind: 'statistics',
    level: 'county',
    jurisdiction: '110105',
  });
  const noGrant = await createKey(db, { department: 'TEST-NOGRANT', application: 'matrix' });
  await addDepartment(db, {
    code: 'PSB-110105',
    name: '北京市公安局朝阳分局',
    kind: 'public_security',
    level: 'county',
    jurisdiction: '110105',
  });
  await addGrant(db, {
    department: 'PSB-110105',
    dataset: 'population.persons',
    level: 'sensitive',
    purposes: 'criminal_investigation',
    grantedBy: 'test',
  });
  const police = await createKey(db, { department: 'PSB-110105', application: 'matrix' });
  return { noGrantKey: noGrant.key, countyPoliceKey: police.key };
}
