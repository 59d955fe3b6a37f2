import fc from 'fast-check';
import {
  type GraphQLField,
  type GraphQLObjectType,
  getNamedType,
  isLeafType,
  isNonNullType,
  isObjectType,
} from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_PRINCIPALS } from '../src/access/demo.ts';
import { buildSchema } from '../src/gateway/schema.ts';
import type { Gateway } from '../src/gateway/server.ts';
import { type TestDatabase, testDatabase } from '../src/testing/database.ts';
import { asKey, gql, testGateway } from '../src/testing/gateway.ts';
import { type Seeded, seedAccessFixtures, sensitiveSecrets } from './access-fixtures.ts';

/**
 * Random queries over the live schema, for callers that must never see sensitive personal data in clear:
 * random selections of every field of Person, Household, members, residences, events and divisions,
 * nested, inline fragments and aliases, through persons / person / household / verifyIdentity and the
 * statistics, with random filters. Whatever the query, the response — data, errors and their messages —
 * holds none of the fixture persons' full ID numbers, phone numbers, precise addresses or coordinates.
 */

const SEED = 20_261_127;
const RUNS = 150;

let db: TestDatabase;
let gateway: Gateway;
let seeded: Seeded;
let secrets: string[];

beforeAll(async () => {
  db = await testDatabase();
  gateway = await testGateway(db);
  seeded = await seedAccessFixtures(db);
  secrets = sensitiveSecrets(seeded);
});
afterAll(() => db?.dispose());

const PRINCIPALS: Record<string, Record<string, string>> = {
  public: {},
  provincialMarketRegulation: asKey(DEMO_PRINCIPALS.provincialMarketRegulation.key),
  countyCivilAffairs: asKey(DEMO_PRINCIPALS.countyCivilAffairs.key),
  countyCivilAffairsWithPurpose: asKey(DEMO_PRINCIPALS.countyCivilAffairs.key, 'social_assistance'),
  nationalPublicSecurityNoPurpose: asKey(DEMO_PRINCIPALS.nationalPublicSecurity.key),
  nationalPublicSecurityUnapproved: asKey(DEMO_PRINCIPALS.nationalPublicSecurity.key, 'market_supervision'),
};

// ---------------------------------------------------------------------------------------------------
// Selections generated from the schema itself, so a field added later is fuzzed without a change here.

/** Large or irrelevant to personal data: boundaries are public polygons whose digits would look like points. */
const SKIP = new Set(['Division.boundary']);
const MAX_DEPTH = 3;

function selectableFields(type: GraphQLObjectType): GraphQLField<unknown, unknown>[] {
  return Object.values(type.getFields()).filter(
    (f) =>
      !SKIP.has(`${type.name}.${f.name}`) &&
      f.args.every((a) => !isNonNullType(a.type) || a.defaultValue !== undefined),
  );
}

const memo = new Map<string, fc.Arbitrary<string>>();

function selectionArb(type: GraphQLObjectType, depth: number): fc.Arbitrary<string> {
  const key = `${type.name}/${depth}`;
  const hit = memo.get(key);
  if (hit) return hit;
  const fields = selectableFields(type);
  const fieldArb = (field: GraphQLField<unknown, unknown>): fc.Arbitrary<string> => {
    const named = getNamedType(field.type);
    const args =
      type.name === 'Division' && field.name === 'children'
        ? fc.constantFrom('', '(includeAbolished: true)', '(includeAbolished: false)')
        : fc.constant('');
    const body: fc.Arbitrary<string> = isLeafType(named)
      ? fc.constant('')
      : isObjectType(named) && depth > 0
        ? fc
            .constant(null)
            .chain(() => selectionArb(named, depth - 1))
            .map((s) => ` { ${s} }`)
        : fc.constant(' { __typename }');
    const alias = fc.oneof(
      { arbitrary: fc.constant(null), weight: 12 },
      { arbitrary: fc.constantFrom('x1', 'x2'), weight: 1 },
    );
    return fc
      .tuple(alias, args, body)
      .map(([a, argText, sel]) => `${a ? `${a}_${field.name}: ` : ''}${field.name}${argText}${sel}`);
  };
  const arb = fc
    .subarray(fields, { minLength: 1, maxLength: Math.min(fields.length, 10) })
    .chain((chosen) => fc.tuple(...chosen.map(fieldArb)))
    .chain((parts) =>
      fc.boolean().map((asFragment) => {
        const text = parts.join(' ');
        return asFragment ? `... on ${type.name} { ${text} }` : text;
      }),
    );
  memo.set(key, arb);
  return arb;
}

function objectType(name: string): GraphQLObjectType {
  const type = buildSchema().getType(name);
  if (!type || !isObjectType(type)) throw new Error(`no object type ${name}`);
  return type;
}

const date = fc
  .integer({ min: Date.parse('1950-01-01') / 86_400_000, max: Date.parse('2024-12-31') / 86_400_000 })
  .map((d) => new Date(d * 86_400_000).toISOString().slice(0, 10));

const filterArb = fc
  .record(
    {
      gender: fc.constantFrom('MALE', 'FEMALE'),
      ageMin: fc.integer({ min: 0, max: 90 }),
      ageMax: fc.integer({ min: 0, max: 120 }),
      birthDateFrom: date,
      birthDateTo: date,
      status: fc.constantFrom('ALIVE', 'DECEASED'),
      ethnicity: fc.constantFrom('01', '03', '99'),
    },
    { requiredKeys: [] },
  )
  .map((f) =>
    Object.entries(f)
      .map(([k, v]) => `${k}: ${typeof v === 'number' || /^[A-Z]+$/.test(String(v)) ? v : JSON.stringify(v)}`)
      .join(', '),
  );

const DIVISIONS = ['110105', '110000', '440106', '440000', '110108'];

function rootArb(): fc.Arbitrary<string> {
  const person = selectionArb(objectType('Person'), MAX_DEPTH);
  const household = selectionArb(objectType('Household'), MAX_DEPTH);
  const ids = [
    ...Object.values(seeded.persons).map((p) => p.idNumber),
    '11010519491231002X', // valid, nobody holds it
    '110105198503171234', // bad check digit
  ];
  const persons = fc
    .record({
      division: fc.constantFrom(...DIVISIONS),
      by: fc.constantFrom('', ', by: RESIDENCE', ', by: HOUSEHOLD_REGISTRATION'),
      first: fc.integer({ min: 1, max: 8 }),
      filter: fc.option(filterArb, { nil: null }),
      totalCount: fc.boolean(),
      cursor: fc.boolean(),
      node: person,
    })
    .map(
      (r) =>
        `persons(divisionCode: "${r.division}"${r.by}, first: ${r.first}${r.filter !== null ? `, filter: { ${r.filter} }` : ''}) {
          ${r.totalCount ? 'totalCount' : ''} pageInfo { hasNextPage } edges { ${r.cursor ? 'cursor' : ''} node { ${r.node} } } }`,
    );
  const byId = fc
    .tuple(fc.constantFrom(...ids), person)
    .map(([id, sel]) => `person(idNumber: "${id}") { ${sel} }`);
  const byNumber = fc
    .tuple(fc.constantFrom('110105000001', '440106000001', '999999000001'), household)
    .map(([n, sel]) => `household(householdNumber: "${n}") { ${sel} }`);
  const verify = fc
    .tuple(fc.constantFrom(...ids), fc.constantFrom('李爱丽', '陈志强', '张三'))
    .map(([id, name]) => `verifyIdentity(idNumber: "${id}", name: "${name}")`);
  const statistics = fc
    .tuple(
      fc.constantFrom(...DIVISIONS),
      fc.constantFrom('GENDER', 'AGE_BAND', 'ETHNICITY', 'CHILD_DIVISION'),
    )
    .map(
      ([d, g]) =>
        `populationStatistics(divisionCode: "${d}", groupBy: ${g}) { total cells { key label count suppressed } }`,
    );
  return fc.oneof(
    { arbitrary: persons, weight: 5 },
    { arbitrary: byId, weight: 3 },
    { arbitrary: byNumber, weight: 2 },
    { arbitrary: verify, weight: 1 },
    { arbitrary: statistics, weight: 1 },
  );
}

function queryArb(): fc.Arbitrary<{ principal: string; query: string }> {
  return fc.record({
    principal: fc.constantFrom(...Object.keys(PRINCIPALS)),
    query: fc
      .array(rootArb(), { minLength: 1, maxLength: 3 })
      .map((roots) => `query Fuzz { ${roots.map((r, i) => `r${i}: ${r}`).join('\n')} }`),
  });
}

describe('fuzzing the access rules', () => {
  it('the fixtures hold secrets to look for', () => {
    expect(secrets.length).toBeGreaterThan(30);
    expect(secrets).toContain(seeded.persons.A!.idNumber);
    expect(secrets).toContain('13812345678');
    expect(secrets).toContain('116.4637281');
  });

  it('no random query shows an unprivileged caller a clear sensitive value, not even in an error', async () => {
    const seen = { requests: 0, withData: 0, codes: new Map<string, number>() };
    await fc.assert(
      fc.asyncProperty(queryArb(), async ({ principal, query }) => {
        const response = await gql(gateway, query, {}, PRINCIPALS[principal]);
        seen.requests++;
        if (response.data && Object.values(response.data).some((v) => v !== null)) seen.withData++;
        for (const e of response.errors ?? []) {
          const code = String(e.extensions?.code);
          seen.codes.set(code, (seen.codes.get(code) ?? 0) + 1);
        }
        const text = JSON.stringify(response);
        for (const secret of secrets) {
          if (text.includes(secret)) {
            throw new Error(
              `${principal} saw '${secret}'\nquery: ${query}\nresponse: ${text.slice(0, 2000)}`,
            );
          }
        }
        // The generator writes valid queries, and nothing may fail in a way the gateway does not type.
        expect(response.status, text.slice(0, 500)).toBeLessThan(500);
        for (const e of response.errors ?? []) {
          expect([
            'INTERNAL_SERVER_ERROR',
            'GRAPHQL_VALIDATION_FAILED',
            'GRAPHQL_PARSE_FAILED',
          ]).not.toContain(e.extensions?.code);
        }
      }),
      { seed: SEED, numRuns: RUNS, endOnFailure: true },
    );
    console.log(
      `fuzz: ${seen.requests} requests, ${seen.withData} with data; error codes:`,
      Object.fromEntries(seen.codes),
    );
    // The runs reached both served data and each kind of refusal.
    expect(seen.withData).toBeGreaterThan(RUNS / 4);
    for (const code of ['FORBIDDEN_FIELD', 'FORBIDDEN_DATASET', 'FORBIDDEN_FILTER', 'PURPOSE_REQUIRED']) {
      expect(seen.codes.get(code) ?? 0, code).toBeGreaterThan(0);
    }
  });
});
