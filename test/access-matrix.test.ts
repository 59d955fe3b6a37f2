import { getNamedType, isObjectType } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Dataset, FieldEntry } from '../schema/catalogue.ts';
import {
  householdMembersDataset,
  householdsDataset,
  personsDataset,
  residencesDataset,
  vitalEventsDataset,
} from '../schema/population.ts';
import { addDepartment, addGrant, createKey } from '../src/access/admin.ts';
import { DEMO_PRINCIPALS } from '../src/access/demo.ts';
import { buildSchema } from '../src/gateway/schema.ts';
import type { Gateway } from '../src/gateway/server.ts';
import { type TestDatabase, testDatabase } from '../src/testing/database.ts';
import { asKey, type GraphQLResponse, gql, testGateway } from '../src/testing/gateway.ts';
import {
  globalId,
  type PersonSeed,
  type ResidenceSeed,
  type Seeded,
  seedAccessFixtures,
  seedExtraDepartments,
} from './access-fixtures.ts';
import { hold, registerEntity } from './legal-entity-fixtures.ts';

/**
 * The policy matrix: every classified field of Person, Household, HouseholdMember, Residence and
 * VitalEvent, for every kind of caller, asserted through real GraphQL requests. The expected decision is
 * derived here, from the catalogue entry (level, sharing class, mask rule) and a grant table written out
 * by hand below — not by asking src/access/policy.ts — so the test checks the implementation against the
 * documented rule rather than against itself.
 */

// ---------------------------------------------------------------------------------------------------
// The grant table, by hand (it mirrors src/access/demo.ts; the two departments at the end are created
// through the admin module in beforeAll).

const POPULATION = [
  'population.persons',
  'population.households',
  'population.household_members',
  'population.residences',
  'population.vital_events',
];

type PrincipalName =
  | 'public'
  | 'noGrant'
  | 'county'
  | 'province'
  | 'mpsNoPurpose'
  | 'mpsApproved'
  | 'mpsUnapproved';

interface HandGrant {
  datasets: string[];
  level: 1 | 2 | 3 | 4;
  purposes: string[];
}

const MPS_GRANT: HandGrant = {
  datasets: POPULATION,
  level: 4,
  purposes: ['criminal_investigation', 'identity_verification'],
};

const PRINCIPALS: Record<
  PrincipalName,
  { grant: HandGrant | null; purpose: string | null; subject: 'A' | 'B' }
> = {
  public: { grant: null, purpose: null, subject: 'A' },
  noGrant: { grant: null, purpose: null, subject: 'A' },
  county: {
    grant: { datasets: POPULATION, level: 3, purposes: ['social_assistance'] },
    purpose: null,
    subject: 'A',
  },
  province: {
    grant: { datasets: ['population.persons'], level: 2, purposes: ['market_supervision'] },
    purpose: null,
    subject: 'B',
  },
  mpsNoPurpose: { grant: MPS_GRANT, purpose: null, subject: 'A' },
  mpsApproved: { grant: MPS_GRANT, purpose: 'criminal_investigation', subject: 'A' },
  mpsUnapproved: { grant: MPS_GRANT, purpose: 'market_supervision', subject: 'A' },
};

const LEVEL = { public: 1, internal: 2, restricted: 3, sensitive: 4 } as const;

type Expected =
  | { kind: 'allow' }
  | { kind: 'mask' }
  | {
      kind: 'deny';
      code: 'FORBIDDEN_FIELD' | 'FORBIDDEN_DATASET' | 'PURPOSE_REQUIRED' | 'PURPOSE_NOT_APPROVED';
    };

/** The documented rule, restated: what this caller should get for a field with this catalogue entry. */
function expectedDecision(who: PrincipalName, dataset: string, entry: FieldEntry): Expected {
  const { grant, purpose } = PRINCIPALS[who];
  // Without any grant the persons query itself is refused before a field is read; without a grant on this
  // dataset (none of the population datasets has a public column) its rows are never reached: the
  // navigation field leading to them is refused (Person.residences needs population.residences).
  if (!grant?.datasets.includes(dataset)) return { kind: 'deny', code: 'FORBIDDEN_DATASET' };
  if (entry.level === 'public') return { kind: 'allow' };
  const level = LEVEL[entry.level];
  if (grant.level >= level) {
    if (entry.share === 'conditional') {
      if (!purpose) return { kind: 'deny', code: 'PURPOSE_REQUIRED' };
      if (!grant.purposes.includes(purpose)) return { kind: 'deny', code: 'PURPOSE_NOT_APPROVED' };
    }
    return { kind: 'allow' };
  }
  if (grant.level === level - 1 && entry.mask !== 'none') return { kind: 'mask' };
  return { kind: 'deny', code: 'FORBIDDEN_FIELD' };
}

// ---------------------------------------------------------------------------------------------------
// Every field of the five types: which catalogue entry classifies it (by hand), how to select it.

type TypeName = 'Person' | 'Household' | 'HouseholdMember' | 'Residence' | 'VitalEvent';

interface FieldSpec {
  /** The catalogue entry (column or derived value) of the type's dataset; null for a navigation link. */
  entry: string | null;
  /** Sub-selection for object-typed fields. */
  select?: string;
  /** The classified type the field leads to, checked in turn. */
  into?: TypeName;
  /** The classified type a field with a plain sub-selection leads to (its dataset must be granted). */
  target?: TypeName;
}

const TYPES: Record<TypeName, { dataset: Dataset; fields: Record<string, FieldSpec> }> = {
  Person: {
    dataset: personsDataset as unknown as Dataset,
    fields: {
      id: { entry: 'id' },
      idNumber: { entry: 'idNumber' },
      name: { entry: 'name' },
      gender: { entry: 'gender' },
      birthDate: { entry: 'birthDate' },
      age: { entry: 'age' },
      ethnicity: { entry: 'ethnicity' },
      nationality: { entry: 'nationality' },
      hukouDivisionCode: { entry: 'hukouDivisionCode' },
      hukouDivision: { entry: 'hukouDivisionCode', select: '{ code }' },
      hukouAddress: { entry: 'hukouAddress' },
      residenceDivisionCode: { entry: 'residenceDivisionCode' },
      residenceDivision: { entry: 'residenceDivisionCode', select: '{ code }' },
      residenceAddress: { entry: 'residenceAddress' },
      residencePoint: { entry: 'residencePoint' },
      maritalStatus: { entry: 'maritalStatus' },
      education: { entry: 'education' },
      phone: { entry: 'phone' },
      status: { entry: 'status' },
      deathDate: { entry: 'deathDate' },
      household: { entry: 'householdId', into: 'Household' },
      residences: { entry: null, into: 'Residence' },
      events: { entry: null, into: 'VitalEvent' },
      version: { entry: 'version' },
      validFrom: { entry: 'validFrom' },
      updatedAt: { entry: 'updatedAt' },
      sourceDept: { entry: 'sourceDept' },
      sourceBatch: { entry: 'sourceBatch' },
    },
  },
  Household: {
    dataset: householdsDataset as unknown as Dataset,
    fields: {
      id: { entry: 'id' },
      householdNumber: { entry: 'householdNumber' },
      type: { entry: 'type' },
      head: { entry: 'headPersonId', select: '{ __typename }', target: 'Person' },
      divisionCode: { entry: 'divisionCode' },
      division: { entry: 'divisionCode', select: '{ code }' },
      address: { entry: 'address' },
      members: { entry: null, into: 'HouseholdMember' },
      memberCount: { entry: 'memberCount' },
      updatedAt: { entry: 'updatedAt' },
      sourceDept: { entry: 'sourceDept' },
      sourceBatch: { entry: 'sourceBatch' },
    },
  },
  HouseholdMember: {
    dataset: householdMembersDataset as unknown as Dataset,
    fields: {
      relation: { entry: 'relation' },
      validFrom: { entry: 'validFrom' },
      validTo: { entry: 'validTo' },
      person: { entry: 'personId', select: '{ __typename }', target: 'Person' },
    },
  },
  Residence: {
    dataset: residencesDataset as unknown as Dataset,
    fields: {
      divisionCode: { entry: 'divisionCode' },
      address: { entry: 'address' },
      point: { entry: 'point' },
      validFrom: { entry: 'validFrom' },
      validTo: { entry: 'validTo' },
      sourceDept: { entry: 'sourceDept' },
    },
  },
  VitalEvent: {
    dataset: vitalEventsDataset as unknown as Dataset,
    fields: {
      type: { entry: 'type' },
      eventDate: { entry: 'eventDate' },
      divisionCode: { entry: 'divisionCode' },
      sourceDept: { entry: 'sourceDept' },
    },
  },
};

/**
 * Fields on these types whose every value is decided by another module through the same policy function,
 * and tested there: tags carry their own classification, one decision per tag; attributes (fields on
 * demand) are classified by their definitions, one decision per attribute.
 */
const DECIDED_ELSEWHERE: Record<string, string> = {
  'Person.tags': 'per tag, src/tags/access.ts, test/tags.test.ts',
  'Household.tags': 'per tag, src/tags/access.ts, test/tags.test.ts',
  'Person.attributes': 'per attribute definition, src/attributes/access.ts, test/attributes.test.ts',
  'Person.attributeHistory': 'per attribute definition, src/attributes/access.ts, test/attributes.test.ts',
};

function catalogueEntry(type: TypeName, field: string): FieldEntry {
  const dataset = TYPES[type].dataset;
  const name = TYPES[type].fields[field]!.entry!;
  const entry =
    (dataset.fields as Record<string, FieldEntry>)[name] ??
    (dataset.derived as Record<string, FieldEntry>)[name];
  if (!entry) throw new Error(`${type}.${field}: no catalogue entry '${name}'`);
  return entry;
}

/**
 * A field's expected decision: its own catalogue entry's (none for a link), and for a field that navigates
 * to another classified type, also a grant on that type's dataset — else the link itself is refused with
 * FORBIDDEN_DATASET (it would reveal that rows exist, and how many).
 */
function fieldExpected(who: PrincipalName, type: TypeName, field: string): Expected {
  const spec = TYPES[type].fields[field]!;
  const { grant } = PRINCIPALS[who];
  const own: Expected =
    spec.entry !== null
      ? expectedDecision(who, TYPES[type].dataset.id, catalogueEntry(type, field))
      : grant?.datasets.includes(TYPES[type].dataset.id)
        ? { kind: 'allow' }
        : { kind: 'deny', code: 'FORBIDDEN_DATASET' };
  if (own.kind === 'deny') return own;
  const target = spec.into ?? spec.target;
  if (target && !grant?.datasets.includes(TYPES[target].dataset.id))
    return { kind: 'deny', code: 'FORBIDDEN_DATASET' };
  return own;
}

function selection(type: TypeName): string {
  return Object.entries(TYPES[type].fields)
    .map(([name, spec]) =>
      spec.into ? `${name} { ${selection(spec.into)} }` : `${name} ${spec.select ?? ''}`,
    )
    .join(' ');
}

const MATRIX_QUERY = `query Matrix($division: String!) {
  persons(divisionCode: $division, first: 50) { edges { node { ${selection('Person')} } } }
}`;

// ---------------------------------------------------------------------------------------------------
// The values: clear, and masked as the catalogue's mask rules shape them (written out by hand).

const COUNTY_PREFIX: Record<string, string> = { '110105': '北京市朝阳区', '440106': '广东省广州市天河区' };
const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

/** The 0.01° cell centre of each fixture point, by hand. */
const SNAPPED: Record<string, [number, number]> = {
  '116.4637281,39.9127463': [116.465, 39.915],
  '113.3301234,23.1432109': [113.335, 23.145],
  '113.3245187,23.1367413': [113.325, 23.135],
  '113.3312347,23.1456783': [113.335, 23.145],
};

function ageToday(birthDate: string): number {
  const today = new Date().toISOString().slice(0, 10);
  const years = Number(today.slice(0, 4)) - Number(birthDate.slice(0, 4));
  return today.slice(5) < birthDate.slice(5) ? years - 1 : years;
}

const point = (p: [number, number]) => ({ type: 'Point', coordinates: p });
const snapped = (p: [number, number]) => {
  const s = SNAPPED[p.join(',')];
  if (!s) throw new Error(`no hand-snapped value for ${p}`);
  return point(s);
};

interface Values {
  clear: Record<string, unknown>;
  masked: Record<string, unknown>;
}

let seeded: Seeded;

function personValues(p: PersonSeed): Values {
  const s = seeded.persons[p.key]!;
  return {
    clear: {
      id: globalId('Person', s.id),
      idNumber: s.idNumber,
      name: p.name,
      gender: p.gender === '1' ? 'MALE' : 'FEMALE',
      birthDate: p.birthDate,
      age: ageToday(p.birthDate),
      ethnicity: p.ethnicity,
      nationality: 'CHN',
      hukouDivisionCode: p.hukou,
      hukouDivision: { code: p.hukou },
      hukouAddress: p.hukouAddress,
      residenceDivisionCode: p.residence,
      residenceDivision: { code: p.residence },
      residenceAddress: p.residenceAddress,
      residencePoint: point(p.point),
      maritalStatus: p.maritalStatus,
      education: p.education,
      phone: p.phone,
      status: p.status === 'alive' ? 'ALIVE' : 'DECEASED',
      deathDate: p.deathDate,
      household: 'object',
      version: 1,
      validFrom: ISO_INSTANT,
      updatedAt: ISO_INSTANT,
      sourceDept: 'MPS',
      sourceBatch: 'access-fixture',
    },
    masked: {
      // 110105********1234
      idNumber: `${s.idNumber.slice(0, 6)}********${s.idNumber.slice(-4)}`,
      // 李**
      name: `${p.name[0]}**`,
      birthDate: p.birthDate.slice(0, 4),
      hukouAddress: `${COUNTY_PREFIX[p.hukou]}****`,
      residenceAddress: `${COUNTY_PREFIX[p.residence]}****`,
      residencePoint: snapped(p.point),
      // 138****5678
      phone: `${p.phone.slice(0, 3)}****${p.phone.slice(-4)}`,
    },
  };
}

function householdValues(p: PersonSeed): Values {
  const h = seeded.households[p.household!]!;
  return {
    clear: {
      id: String(h.id),
      householdNumber: h.seed.number,
      type: 'FAMILY',
      head: { __typename: 'Person' },
      divisionCode: h.seed.division,
      division: { code: h.seed.division },
      address: h.seed.address,
      memberCount: 1,
      updatedAt: ISO_INSTANT,
      sourceDept: 'MPS',
      sourceBatch: 'access-fixture',
    },
    masked: { householdNumber: '***', address: `${COUNTY_PREFIX[h.seed.division]}****` },
  };
}

function memberValues(p: PersonSeed): Values {
  return {
    clear: { relation: '02', validFrom: p.movedInOn, validTo: null, person: { __typename: 'Person' } },
    masked: {},
  };
}

function residenceValues(r: ResidenceSeed): Values {
  return {
    clear: {
      divisionCode: r.division,
      address: r.address,
      point: point(r.point),
      validFrom: r.from,
      validTo: r.to,
      sourceDept: 'MPS',
    },
    masked: { address: `${COUNTY_PREFIX[r.division]}****`, point: snapped(r.point) },
  };
}

function eventValues(e: PersonSeed['events'][number]): Values {
  return {
    clear: { type: e.type.toUpperCase(), eventDate: e.date, divisionCode: e.division, sourceDept: 'MPS' },
    masked: { eventDate: e.date.slice(0, 4) },
  };
}

// ---------------------------------------------------------------------------------------------------
// Checking one response against the expectations.

type Path = (string | number)[];

interface Cell {
  principal: PrincipalName;
  coordinate: string;
  expected: Expected;
  /** Behind a refused link: decided, but never reached, so it raises no error of its own. */
  unreached?: true;
}

function at(data: unknown, path: Path): unknown {
  let value = data;
  for (const key of path) {
    if (value === null || value === undefined) return undefined;
    value = (value as Record<string | number, unknown>)[key];
  }
  return value;
}

class Checker {
  readonly cells: Cell[] = [];

  constructor(
    private readonly who: PrincipalName,
    private readonly response: GraphQLResponse,
  ) {}

  private errorAt(path: Path) {
    const key = JSON.stringify(path);
    return this.response.errors?.find((e) => JSON.stringify(e.path) === key);
  }

  /** One instance of a type at `path`: every field decided as expected. */
  check(
    type: TypeName,
    path: Path,
    values: Values,
    children: (field: string) => [Path, Values, TypeName][],
  ): void {
    for (const [field, spec] of Object.entries(TYPES[type].fields)) {
      const fieldPath = [...path, field];
      const label = `${this.who} ${type}.${field} at ${fieldPath.join('.')}`;
      const expected = fieldExpected(this.who, type, field);
      this.cells.push({ principal: this.who, coordinate: `${type}.${field}`, expected });
      const value = at(this.response.data, fieldPath);
      const error = this.errorAt(fieldPath);
      if (expected.kind === 'deny') {
        expect(error?.extensions?.code, label).toBe(expected.code);
        expect(value, label).toBeNull();
        // The message names the field, and holds nothing of its value.
        expect(error?.message, label).toContain(`${type}.${field}`);
        // A refused link reaches none of the rows behind it: their fields are decided FORBIDDEN_DATASET.
        if (spec.into) this.unreached(spec.into);
        continue;
      }
      expect(error, label).toBeUndefined();
      if (spec.entry === null) {
        expect(Array.isArray(value), `${label}: the link returns its rows`).toBe(true);
      } else {
        const want = expected.kind === 'allow' ? values.clear[field] : values.masked[field];
        if (expected.kind === 'mask')
          expect(field in values.masked, `${label}: no masked value written`).toBe(true);
        if (want instanceof RegExp) expect(value, label).toMatch(want);
        else if (want === 'object') expect(value !== null && typeof value === 'object', label).toBe(true);
        else expect(value, label).toEqual(want);
        if (expected.kind === 'mask') expect(value, label).not.toEqual(values.clear[field]);
        if (!spec.into) continue;
      }
      for (const [childPath, childValues, childType] of children(field)) {
        this.check(childType, childPath, childValues, () => []);
      }
    }
  }

  /** Cells of a type whose rows the caller never reaches: the rule must say FORBIDDEN_DATASET for each. */
  unreached(type: TypeName): void {
    for (const [field, spec] of Object.entries(TYPES[type].fields)) {
      const expected = fieldExpected(this.who, type, field);
      expect(expected, `${this.who} ${type}.${field} is behind a refused link`).toEqual({
        kind: 'deny',
        code: 'FORBIDDEN_DATASET',
      });
      this.cells.push({ principal: this.who, coordinate: `${type}.${field}`, expected, unreached: true });
      if (spec.into) this.unreached(spec.into);
    }
  }
}

// ---------------------------------------------------------------------------------------------------

let db: TestDatabase;
let gateway: Gateway;
let headers: Record<PrincipalName, Record<string, string>>;
let countyPoliceKey: string;

const MPS_KEY = DEMO_PRINCIPALS.nationalPublicSecurity.key;
const COUNTY_KEY = DEMO_PRINCIPALS.countyCivilAffairs.key;
const PROVINCE_KEY = DEMO_PRINCIPALS.provincialMarketRegulation.key;

beforeAll(async () => {
  db = await testDatabase();
  gateway = await testGateway(db);
  seeded = await seedAccessFixtures(db);
  const extra = await seedExtraDepartments(db);
  countyPoliceKey = extra.countyPoliceKey;
  headers = {
    public: {},
    noGrant: asKey(extra.noGrantKey),
    county: asKey(COUNTY_KEY),
    province: asKey(PROVINCE_KEY),
    mpsNoPurpose: asKey(MPS_KEY),
    mpsApproved: asKey(MPS_KEY, 'criminal_investigation'),
    mpsUnapproved: asKey(MPS_KEY, 'market_supervision'),
  };
});
afterAll(() => db?.dispose());

describe('the policy matrix', () => {
  it('covers every field of the five types, each classified by a catalogue entry or a link', () => {
    const schema = buildSchema();
    const foreign: string[] = [];
    for (const [name, spec] of Object.entries(TYPES)) {
      const type = schema.getType(name);
      expect(type && isObjectType(type), name).toBe(true);
      if (!type || !isObjectType(type)) continue;
      for (const field of Object.keys(spec.fields)) {
        expect(type.getFields()[field], `${name}.${field} is in the schema`).toBeDefined();
        if (spec.fields[field]!.entry !== null) expect(catalogueEntry(name as TypeName, field)).toBeDefined();
      }
      // Fields other registries add to these types (a person's shareholdings, quality flags, tags, …) are
      // classified by those registries' own datasets and tested there; here they must at least name one, with
      // an entry — or be a link to a type of another dataset, which the caller then needs a grant on.
      for (const [field, definition] of Object.entries(type.getFields())) {
        if (field in spec.fields) continue;
        const options = definition.extensions?.pothosOptions as {
          access?: { dataset?: Dataset; field?: string } | 'link';
          requiresDataset?: Dataset;
        };
        if (DECIDED_ELSEWHERE[`${name}.${field}`]) {
          foreign.push(`${name}.${field} (${DECIDED_ELSEWHERE[`${name}.${field}`]})`);
          continue;
        }
        if (options?.access === 'link') {
          const target = (getNamedType(definition.type) as { extensions?: { pothosOptions?: unknown } })
            .extensions?.pothosOptions as { dataset?: Dataset } | undefined;
          const required = options.requiresDataset ?? target?.dataset;
          expect(required?.id, `${name}.${field} links to a type without a dataset`).toBeDefined();
          expect(
            required!.id.startsWith('population.'),
            `${name}.${field}: a population link belongs in the matrix`,
          ).toBe(false);
          foreign.push(`${name}.${field} (link → ${required!.id})`);
          continue;
        }
        const access = options?.access;
        const dataset = access?.dataset;
        expect(
          dataset?.id,
          `${name}.${field} is neither in the matrix nor classified by another dataset`,
        ).toBeDefined();
        expect(
          dataset!.id.startsWith('population.'),
          `${name}.${field}: a population field belongs in the matrix`,
        ).toBe(false);
        const entryName = access?.field ?? field;
        expect(
          (dataset!.fields as Record<string, unknown>)[entryName] ??
            (dataset!.derived as Record<string, unknown>)[entryName],
          `${name}.${field} → ${dataset!.id}.${entryName}`,
        ).toBeDefined();
        foreign.push(`${name}.${field} (${dataset!.id})`);
      }
    }
    if (foreign.length) console.log(`fields classified by other registries' datasets: ${foreign.join(', ')}`);
  });

  const allCells: Cell[] = [];

  it.each(Object.keys(PRINCIPALS) as PrincipalName[])(
    'decides every field as documented for %s',
    async (who) => {
      const { subject } = PRINCIPALS[who];
      const person = seeded.persons[subject]!;
      const division = person.seed.residence;
      const response = await gql(gateway, MATRIX_QUERY, { division }, headers[who]);
      const checker = new Checker(who, response);
      if (!PRINCIPALS[who].grant) {
        // No grant at all: the query is refused as a whole, and every cell with it.
        expect(response.data?.persons ?? null).toBeNull();
        expect(response.errors?.map((e) => e.extensions?.code)).toEqual(['FORBIDDEN_DATASET']);
        expect(response.status).toBe(403);
        for (const [type, spec] of Object.entries(TYPES)) {
          for (const field of Object.keys(spec.fields)) {
            const expected = fieldExpected(who, type as TypeName, field);
            expect(expected).toEqual({ kind: 'deny', code: 'FORBIDDEN_DATASET' });
            checker.cells.push({ principal: who, coordinate: `${type}.${field}`, expected });
          }
        }
        allCells.push(...checker.cells);
        return;
      }
      const edges = (response.data?.persons?.edges ?? []) as { node: { id: string } }[];
      const index = edges.findIndex((e) => e.node?.id === globalId('Person', person.id));
      expect(index, `${who} sees ${subject} in ${division}`).toBeGreaterThanOrEqual(0);
      const base: Path = ['persons', 'edges', index, 'node'];
      checker.check('Person', base, personValues(person.seed), (field) => {
        if (field === 'household') {
          const household = householdValues(person.seed);
          return [[[...base, 'household'], household, 'Household']];
        }
        if (field === 'residences') {
          return person.residences.map((r, i) => [
            [...base, 'residences', i],
            residenceValues(r),
            'Residence',
          ]);
        }
        if (field === 'events') {
          return person.seed.events.map((e, i) => [[...base, 'events', i], eventValues(e), 'VitalEvent']);
        }
        return [];
      });
      // Household's own link (members) is checked from the household, one level down.
      const householdPath = [...base, 'household'];
      if (at(response.data, householdPath)) {
        const members = at(response.data, [...householdPath, 'members']) as unknown[];
        expect(members).toHaveLength(1);
        checker.check(
          'HouseholdMember',
          [...householdPath, 'members', 0],
          memberValues(person.seed),
          () => [],
        );
      }
      // Every error about the subject is one the matrix expected, and the other rows fail the same ways.
      const denials = checker.cells.flatMap((c) =>
        c.expected.kind === 'deny' && !c.unreached ? [c.expected.code] : [],
      );
      const prefix = JSON.stringify(base).slice(0, -1);
      const mine = (response.errors ?? []).filter((e) => JSON.stringify(e.path).startsWith(`${prefix},`));
      expect(mine).toHaveLength(denials.length);
      for (const e of response.errors ?? []) expect(denials).toContain(e.extensions?.code);
      allCells.push(...dedupe(checker.cells));
    },
  );

  it('is complete: every classified field × every principal, with each kind of decision present', () => {
    // Every field of the five types, links included (a link is a cell too: it may reveal rows).
    const fields = Object.values(TYPES).reduce((n, t) => n + Object.keys(t.fields).length, 0);
    const principals = Object.keys(PRINCIPALS).length;
    const unique = dedupe(allCells);
    expect(unique).toHaveLength(fields * principals);
    const kinds = new Set(
      unique.map((c) => (c.expected.kind === 'deny' ? c.expected.code : c.expected.kind)),
    );
    expect([...kinds].sort()).toEqual(
      [
        'FORBIDDEN_DATASET',
        'FORBIDDEN_FIELD',
        'PURPOSE_NOT_APPROVED',
        'PURPOSE_REQUIRED',
        'allow',
        'mask',
      ].sort(),
    );
    console.log(`policy matrix: ${fields} fields × ${principals} principals = ${unique.length} cells`);
  });
});

function dedupe(cells: Cell[]): Cell[] {
  const seen = new Map<string, Cell>();
  for (const c of cells) seen.set(`${c.principal} ${c.coordinate}`, c);
  return [...seen.values()];
}

// ---------------------------------------------------------------------------------------------------

const idsOf = (r: GraphQLResponse) =>
  ((r.data?.persons?.edges ?? []) as { node: { id: string } }[]).map((e) => e.node.id).sort();

describe('row scope by jurisdiction', () => {
  it('a county department lists only persons registered or residing in its county', async () => {
    const q = `query($d: String!, $by: DivisionRole) { persons(divisionCode: $d, by: $by, first: 100) {
      totalCount edges { node { id } } } }`;
    const { A, B, C, S1, S2, S3, S4 } = seeded.persons as Record<string, { id: number }>;
    const gid = (p: { id: number }) => globalId('Person', p.id);

    const beijing = await gql(gateway, q, { d: '110000' }, headers.county);
    expect(beijing.errors).toBeUndefined();
    expect(idsOf(beijing)).toEqual([A, S1, S2, S3].map((p) => gid(p!)).sort());

    // Tianhe by residence: C lives there but is registered in Chaoyang (in scope); B and S4 are not.
    const tianhe = await gql(gateway, q, { d: '440106' }, headers.county);
    expect(tianhe.errors).toBeUndefined();
    expect(idsOf(tianhe)).toEqual([gid(C!)]);
    expect(tianhe.data!.persons.totalCount).toBe(1);

    const wholeCountry = await gql(gateway, q, { d: '440000', by: 'HOUSEHOLD_REGISTRATION' }, headers.county);
    expect(idsOf(wholeCountry)).toEqual([]);

    // The national department sees all of Tianhe.
    const national = await gql(gateway, q, { d: '440106' }, headers.mpsNoPurpose);
    expect(idsOf(national)).toEqual([B, C, S4].map((p) => gid(p!)).sort());
  });

  it('a province department lists only its province', async () => {
    const q = `query($d: String!) { persons(divisionCode: $d, first: 100) { totalCount edges { node { id } } } }`;
    const beijing = await gql(gateway, q, { d: '110105' }, headers.province);
    expect(beijing.errors).toBeUndefined();
    expect(beijing.data!.persons.totalCount).toBe(0);
    const guangdong = await gql(gateway, q, { d: '440000' }, headers.province);
    expect(guangdong.data!.persons.totalCount).toBe(3);
  });

  it('person(idNumber) on someone outside the jurisdiction is OUT_OF_JURISDICTION, inside it is served', async () => {
    const q = `query($id: String!) { person(idNumber: $id) { name idNumber } }`;
    const police = asKey(countyPoliceKey, 'criminal_investigation');
    const outside = await gql(gateway, q, { id: seeded.persons.B!.idNumber }, police);
    expect(outside.errors?.[0]?.extensions?.code).toBe('OUT_OF_JURISDICTION');
    expect(outside.data?.person ?? null).toBeNull();
    expect(JSON.stringify(outside)).not.toContain(seeded.persons.B!.idNumber);
    const inside = await gql(gateway, q, { id: seeded.persons.A!.idNumber }, police);
    expect(inside.errors).toBeUndefined();
    expect(inside.data!.person).toEqual({ name: '李爱丽', idNumber: seeded.persons.A!.idNumber });
  });

  it('a household outside the jurisdiction is OUT_OF_JURISDICTION', async () => {
    const q = `query($n: String!) { household(householdNumber: $n) { householdNumber address } }`;
    const outside = await gql(gateway, q, { n: '440106000001' }, headers.county);
    expect(outside.errors?.[0]?.extensions?.code).toBe('OUT_OF_JURISDICTION');
    const inside = await gql(gateway, q, { n: '110105000001' }, headers.county);
    expect(inside.data!.household).toEqual({
      householdNumber: '110105000001',
      address: '北京市朝阳区建国路88号',
    });
  });

  it('statistics outside the jurisdiction are OUT_OF_JURISDICTION', async () => {
    const q = `query($d: String!) { populationStatistics(divisionCode: $d, groupBy: GENDER) { total } }`;
    const r = await gql(gateway, q, { d: '440000' }, headers.county);
    expect(r.errors?.[0]?.extensions?.code).toBe('OUT_OF_JURISDICTION');
    expect(r.errors?.[0]?.message).toContain("'divisionCode'");
    const series = await gql(
      gateway,
      `{ vitalEventSeries(divisionCode: "440106", from: "1970-01-01", to: "2020-12-31") { count } }`,
      {},
      headers.county,
    );
    expect(series.errors?.[0]?.extensions?.code).toBe('OUT_OF_JURISDICTION');
  });
});

describe('side channels', () => {
  const persons = `query($d: String!, $f: PersonFilter) { persons(divisionCode: $d, filter: $f) { totalCount } }`;

  it('filtering on a field the caller cannot read in clear is FORBIDDEN_FILTER', async () => {
    for (const filter of [
      { birthDateFrom: '1970-01-01' },
      { birthDateTo: '1980-01-01' },
      { ethnicity: '03' },
    ]) {
      const r = await gql(gateway, persons, { d: '440106', f: filter }, headers.province);
      expect(r.errors?.[0]?.extensions?.code, JSON.stringify(filter)).toBe('FORBIDDEN_FILTER');
      expect(r.errors?.[0]?.message).toMatch(/Argument 'filter\.(birthDate(From|To)|ethnicity)'/);
      expect(r.data?.persons ?? null).toBeNull();
    }
    // Internal fields filter freely at the internal level; restricted ones with a restricted grant.
    const gender = await gql(gateway, persons, { d: '440106', f: { gender: 'MALE' } }, headers.province);
    expect(gender.errors).toBeUndefined();
    expect(gender.data!.persons.totalCount).toBe(2);
    const birth = await gql(
      gateway,
      persons,
      { d: '110105', f: { birthDateTo: '1990-01-01' } },
      headers.county,
    );
    expect(birth.errors).toBeUndefined();
    expect(birth.data!.persons.totalCount).toBe(1);
  });

  it('person(idNumber) without the right to read ID numbers in clear is FORBIDDEN_FILTER', async () => {
    const q = `query($id: String!) { person(idNumber: $id) { name } }`;
    const id = seeded.persons.A!.idNumber;
    for (const who of ['county', 'mpsNoPurpose', 'mpsUnapproved', 'province'] as const) {
      const r = await gql(gateway, q, { id }, headers[who]);
      expect(r.errors?.[0]?.extensions?.code, who).toBe('FORBIDDEN_FILTER');
      expect(r.errors?.[0]?.message).toContain("Argument 'idNumber'");
      expect(r.data?.person ?? null).toBeNull();
    }
    const approved = await gql(gateway, q, { id }, headers.mpsApproved);
    expect(approved.data!.person).toEqual({ name: '李爱丽' });
  });

  it('a principal without any grant reaches no row-level query, not even a count or a verification', async () => {
    for (const who of ['public', 'noGrant'] as const) {
      for (const q of [
        `{ persons(divisionCode: "110105") { totalCount } }`,
        `{ persons(divisionCode: "110105") { edges { cursor } } }`,
        `{ verifyIdentity(idNumber: "${seeded.persons.A!.idNumber}", name: "李爱丽") }`,
        `{ household(householdNumber: "110105000001") { id } }`,
      ]) {
        const r = await gql(gateway, q, {}, headers[who]);
        expect(r.errors?.[0]?.extensions?.code, `${who}: ${q}`).toBe('FORBIDDEN_DATASET');
        expect(
          Object.values(r.data ?? {}).every((v) => v === null),
          q,
        ).toBe(true);
      }
    }
    // A department with persons but not households is refused the household query too.
    const r = await gql(
      gateway,
      `{ household(householdNumber: "440106000001") { id } }`,
      {},
      headers.province,
    );
    expect(r.errors?.[0]?.extensions?.code).toBe('FORBIDDEN_DATASET');
  });
});

describe('navigation between datasets', () => {
  it('a link into a dataset without a grant is refused, revealing neither rows nor their number', async () => {
    // A national department with the legal-entity datasets at 'restricted' and nothing of the population.
    await addDepartment(db, {
      code: 'TEST-ENTITIES',
      name: '测试部门（仅法人库）',
      kind: 'statistics',
      level: 'national',
    });
    for (const dataset of ['legal_entity.entities', 'legal_entity.shareholdings'])
      await addGrant(db, { department: 'TEST-ENTITIES', dataset, level: 'restricted', grantedBy: 'test' });
    const { key } = await createKey(db, { department: 'TEST-ENTITIES', application: 'matrix' });
    const a = seeded.persons.A!;
    const firm = await registerEntity(db, {
      name: '北京市导航测试有限公司',
      divisionCode: '110105',
      registrationAuthority: '北京市朝阳区市场监督管理局',
      legalRep: { personId: a.id },
    });
    await hold(db, firm, { id: a.id, kind: 'person' }, 100);
    const q = `query($u: String!) { entity(uscc: $u) { name legalRepresentative { __typename }
      shareholders { percentage shareholderPerson { __typename } } } }`;

    const r = await gql(gateway, q, { u: firm.uscc }, asKey(key));
    expect(r.data!.entity.name).toBe('北京市导航测试有限公司');
    expect(r.data!.entity.legalRepresentative).toBeNull();
    expect(r.data!.entity.shareholders).toEqual([{ percentage: 100, shareholderPerson: null }]);
    const refused = (r.errors ?? []).map((e) => [
      e.path?.join('.'),
      e.extensions?.code,
      e.extensions?.dataset,
    ]);
    expect(refused).toEqual([
      ['entity.legalRepresentative', 'FORBIDDEN_DATASET', 'population.persons'],
      ['entity.shareholders.0.shareholderPerson', 'FORBIDDEN_DATASET', 'population.persons'],
    ]);
    expect(r.errors![0]!.message).toContain('Entity.legalRepresentative');

    // With a grant on persons the same links are followed.
    const mps = await gql(gateway, q, { u: firm.uscc }, headers.mpsNoPurpose);
    expect(mps.errors).toBeUndefined();
    expect(mps.data!.entity.legalRepresentative).toEqual({ __typename: 'Person' });
  });

  it("a person's residences, events and household are refused without their datasets, whatever the list length", async () => {
    const q = `query($d: String!) { persons(divisionCode: $d, first: 10) { edges { node {
      gender residences { __typename } events { __typename } household { __typename } } } } }`;
    const r = await gql(gateway, q, { d: '440106' }, headers.province);
    const nodes = r.data!.persons.edges.map((e: { node: unknown }) => e.node);
    expect(nodes.length).toBe(3);
    for (const node of nodes) expect(node).toMatchObject({ residences: null, events: null, household: null });
    const codes = new Set((r.errors ?? []).map((e) => `${e.path!.at(-1)} ${e.extensions!.code}`));
    expect([...codes].sort()).toEqual([
      'events FORBIDDEN_DATASET',
      'household FORBIDDEN_DATASET',
      'residences FORBIDDEN_DATASET',
    ]);
  });
});

describe('statistics: small cells', () => {
  const q = `query($d: String!) { populationStatistics(divisionCode: $d, groupBy: GENDER) {
    total cells { key count suppressed } } }`;
  const sorted = (cells: { key: string }[]) => [...cells].sort((a, b) => a.key.localeCompare(b.key));

  it('are suppressed (null and flagged) for the public and an internal-level grant', async () => {
    for (const [who, division] of [
      ['public', '110105'],
      ['public', '440106'],
      ['province', '440106'],
    ] as const) {
      const r = await gql(gateway, q, { d: division }, headers[who]);
      expect(r.errors, who).toBeUndefined();
      const stats = r.data!.populationStatistics;
      expect(stats.total, `${who} ${division}`).toBeNull();
      expect(stats.cells.length).toBeGreaterThan(0);
      for (const cell of stats.cells)
        expect(cell, `${who} ${division}`).toMatchObject({ count: null, suppressed: true });
    }
  });

  it('are shown to a restricted or sensitive grant', async () => {
    // Alive residents of Chaoyang: S1, S2 (female), S3 (male); A has died. Tianhe: B, C (male), S4 (female).
    for (const [who, division, female, male] of [
      ['county', '110105', 2, 1],
      ['mpsNoPurpose', '110105', 2, 1],
      ['mpsNoPurpose', '440106', 1, 2],
    ] as const) {
      const r = await gql(gateway, q, { d: division }, headers[who]);
      expect(r.errors, who).toBeUndefined();
      const stats = r.data!.populationStatistics;
      expect(stats.total).toBe(female + male);
      expect(sorted(stats.cells)).toEqual([
        { key: '1', count: male, suppressed: false },
        { key: '2', count: female, suppressed: false },
      ]);
    }
  });
});
