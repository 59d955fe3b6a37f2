import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKey, revokeKey } from '../src/access/admin.ts';
import { apiKeyPrefix } from '../src/access/authenticate.ts';
import { DEMO_PRINCIPALS } from '../src/access/demo.ts';
import { loadConfig } from '../src/config.ts';
import { createGateway, type Gateway } from '../src/gateway/server.ts';
import { type TestDatabase, testDatabase } from '../src/testing/database.ts';
import { asKey, gql, testGateway } from '../src/testing/gateway.ts';
import { type Seeded, seedAccessFixtures } from './access-fixtures.ts';

const SECRET = 'test-secret-for-hs256-at-least-32-bytes-long';
const MPS_KEY = DEMO_PRINCIPALS.nationalPublicSecurity.key;
const COUNTY_KEY = DEMO_PRINCIPALS.countyCivilAffairs.key;
const STEWARD_KEY = DEMO_PRINCIPALS.platformSteward.key;

let db: TestDatabase;
let gateway: Gateway;
let seeded: Seeded;

beforeAll(async () => {
  db = await testDatabase();
  gateway = await testGateway(db, { jwt: { secret: SECRET } });
  seeded = await seedAccessFixtures(db);
});
afterAll(() => db?.dispose());

function jwt(
  claims: Record<string, unknown>,
  options: { secret?: string; expires?: string; sub?: string } = {},
) {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(options.sub ?? 'officer-1')
    .setIssuedAt()
    .setExpirationTime(options.expires ?? '10m')
    .sign(new TextEncoder().encode(options.secret ?? SECRET));
}

const bearer = (token: string, purpose?: string) => ({
  authorization: `Bearer ${token}`,
  ...(purpose ? { 'x-purpose': purpose } : {}),
});

const PING = `{ provinces { code } }`;

describe('API keys', () => {
  it('a key made by the admin module works, including secrets that contain underscores', async () => {
    // base64url secrets hold '_' about four times in ten: the prefix is up to the second '_', not the last.
    let withUnderscore: string | undefined;
    for (let i = 0; i < 40 && !withUnderscore; i++) {
      const { key, row } = await createKey(db, { department: 'CA-110105', application: `app-${i}` });
      expect(apiKeyPrefix(key)).toBe(row.prefix);
      if (key.slice(row.prefix.length + 1).includes('_')) withUnderscore = key;
    }
    expect(withUnderscore).toBeDefined();
    const r = await gql(gateway, PING, {}, asKey(withUnderscore!));
    expect(r.status).toBe(200);
    expect(r.errors).toBeUndefined();
    // The X-Api-Key header works as well as Authorization: Bearer.
    const viaHeader = await gql(gateway, PING, {}, { 'x-api-key': withUnderscore! });
    expect(viaHeader.errors).toBeUndefined();
  });

  it('revoked, expired, wrong-secret and unknown keys are UNAUTHENTICATED with HTTP 401', async () => {
    const revoked = await createKey(db, { department: 'CA-110105', application: 'revoked' });
    await revokeKey(db, { prefix: revoked.row.prefix });
    const expired = await createKey(db, { department: 'CA-110105', application: 'expired' });
    await db.query(`UPDATE api_keys SET expires_at = now() - interval '1 minute' WHERE prefix = $1`, [
      expired.row.prefix,
    ]);
    const good = await createKey(db, { department: 'CA-110105', application: 'good' });
    const cases: [string, string, RegExp][] = [
      ['revoked', revoked.key, /revoked/],
      ['expired', expired.key, /expired/],
      ['wrong secret', `${good.row.prefix}_${'A'.repeat(32)}`, /unknown API key/],
      ['unknown', 'gbk_0123456789ab_nothing-like-this-was-issued', /unknown API key/],
      ['truncated', good.row.prefix, /unknown API key/],
    ];
    for (const [label, key, message] of cases) {
      const r = await gql(gateway, PING, {}, asKey(key));
      expect(r.status, label).toBe(401);
      expect(r.errors?.[0]?.extensions?.code, label).toBe('UNAUTHENTICATED');
      expect(r.errors?.[0]?.message, label).toMatch(message);
      expect(r.data ?? null, label).toBeNull();
      // The message never echoes the secret.
      expect(JSON.stringify(r), label).not.toContain(key.slice(key.indexOf('_', 4) + 1) || '\u0000');
    }
    const malformed = await gql(gateway, PING, {}, { authorization: 'Basic dXNlcjpwYXNz' });
    expect(malformed.status).toBe(401);
    expect(malformed.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });

  it('a key revoked while cached stops working once the gateway forgets its principals', async () => {
    const { key, row } = await createKey(db, { department: 'CA-110105', application: 'cached' });
    expect((await gql(gateway, PING, {}, asKey(key))).status).toBe(200);
    await revokeKey(db, { prefix: row.prefix });
    gateway.authenticator.invalidate();
    const r = await gql(gateway, PING, {}, asKey(key));
    expect(r.status).toBe(401);
    expect(r.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });
});

describe('JWT (HS256)', () => {
  const idNumbers = `query Officers($d: String!) { persons(divisionCode: $d, first: 1) { edges { node { idNumber } } } }`;

  it('carries department, roles and purposes, and reads as its department', async () => {
    const token = await jwt({ dept: 'MPS', roles: [], purposes: ['criminal_investigation'] });
    const r = await gql(gateway, idNumbers, { d: '440106' }, bearer(token, 'criminal_investigation'));
    expect(r.errors).toBeUndefined();
    expect(r.data!.persons.edges[0].node.idNumber).toMatch(/^440106\d{11}[\dX]$/);
    const [audit] = await db.query<{ principal: string; department_code: string }>(
      'SELECT principal, department_code FROM audit_log ORDER BY seq DESC LIMIT 1',
    );
    expect(audit).toEqual({ principal: 'jwt:officer-1', department_code: 'MPS' });
  });

  it('a purpose the department may use but the token does not carry is PURPOSE_NOT_APPROVED', async () => {
    // MPS's grant approves identity_verification; this officer's token only allows criminal_investigation.
    const token = await jwt({ dept: 'MPS', purposes: ['criminal_investigation'] });
    const r = await gql(gateway, idNumbers, { d: '440106' }, bearer(token, 'identity_verification'));
    expect(r.errors?.[0]?.extensions?.code).toBe('PURPOSE_NOT_APPROVED');
    expect(r.data!.persons.edges[0].node.idNumber).toBeNull();
    // The same purpose through the department's API key is approved.
    const viaKey = await gql(gateway, idNumbers, { d: '440106' }, asKey(MPS_KEY, 'identity_verification'));
    expect(viaKey.errors).toBeUndefined();
  });

  it('a bad signature, an expired token, or an unknown department is UNAUTHENTICATED', async () => {
    const forged = await jwt({ dept: 'MPS' }, { secret: 'another-secret-of-sufficient-length-here' });
    const expired = await jwt({ dept: 'MPS' }, { expires: '-1m' });
    const unknownDept = await jwt({ dept: 'NO-SUCH-DEPT' });
    const noDept = await jwt({});
    const badIdn = await jwt({ idn: '110105198503171234' });
    for (const [label, token] of [
      ['forged', forged],
      ['expired', expired],
      ['unknown department', unknownDept],
      ['no department', noDept],
      ['bad idn', badIdn],
      ['garbage', 'not.a.jwt'],
    ] as const) {
      const r = await gql(gateway, PING, {}, bearer(token));
      expect(r.status, label).toBe(401);
      expect(r.errors?.[0]?.extensions?.code, label).toBe('UNAUTHENTICATED');
    }
    // A gateway with no JWT key configured accepts no JWT at all.
    const keyless = await testGateway(db);
    const r = await gql(keyless, PING, {}, bearer(await jwt({ dept: 'MPS' })));
    expect(r.status).toBe(401);
  });
});

describe('the access report (PIPL art. 45)', () => {
  const report = `query MyReport($first: Int, $after: String) { myAccessReport(first: $first, after: $after) {
    edges { cursor node { at departmentCode departmentName purpose operation channel } }
    pageInfo { hasNextPage endCursor } } }`;
  const stewardReport = `query Steward($id: String!) { personAccessReport(idNumber: $id) {
    edges { node { departmentCode purpose operation } } } }`;

  it("lists the departments that read a person's data, to that person, and nothing else of the audit", async () => {
    const c = seeded.persons.C!; // registered in Chaoyang, living in Tianhe
    const s1 = seeded.persons.S1!;
    // Three departments look at persons; two read C's sensitive data, one (internal level) cannot.
    await gql(
      gateway,
      `query CountyCase { persons(divisionCode: "440106") { edges { node { name phone } } } }`,
      {},
      asKey(COUNTY_KEY, 'social_assistance'),
    );
    await gql(
      gateway,
      `query Investigation($id: String!) { person(idNumber: $id) { residences { address } } }`,
      { id: c.idNumber },
      asKey(MPS_KEY, 'criminal_investigation'),
    );
    await gql(
      gateway,
      `query MarketCheck { persons(divisionCode: "440106") { edges { node { name gender } } } }`,
      {},
      asKey(DEMO_PRINCIPALS.provincialMarketRegulation.key),
    );

    const citizen = await jwt({ idn: c.idNumber }, { sub: 'citizen-c' });
    const r = await gql(gateway, report, {}, bearer(citizen));
    expect(r.errors).toBeUndefined();
    const entries = r.data!.myAccessReport.edges.map((e: { node: unknown }) => e.node);
    expect(entries).toEqual([
      {
        at: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T/),
        departmentCode: 'MPS',
        departmentName: '公安部',
        purpose: 'criminal_investigation',
        operation: 'Investigation',
        channel: 'graphql',
      },
      {
        at: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T/),
        departmentCode: 'CA-110105',
        departmentName: '北京市朝阳区民政局',
        purpose: 'social_assistance',
        operation: 'CountyCase',
        channel: 'graphql',
      },
    ]);
    // Nothing of the audit's internals: no principal ids, hashes or other persons' keys.
    const text = JSON.stringify(r);
    for (const internal of ['key:', 'gbk_', 'person:', 'jwt:', /[0-9a-f]{64}/]) {
      if (typeof internal === 'string') expect(text).not.toContain(internal);
      else expect(text).not.toMatch(internal);
    }

    // The request itself is audited, with the person as subject; their own reads are not listed back.
    const [own] = await db.query<{
      principal: string;
      operation: string;
      subjects: string[];
      department_code: null;
    }>('SELECT principal, operation, subjects, department_code FROM audit_log ORDER BY seq DESC LIMIT 1');
    expect(own).toEqual({
      principal: 'jwt:citizen-c',
      operation: 'MyReport',
      subjects: [`person:${c.id}`],
      department_code: null,
    });
    const again = await gql(gateway, report, {}, bearer(citizen));
    expect(again.data!.myAccessReport.edges).toHaveLength(2);

    // Another person sees only the departments that read them: S1 lives in Chaoyang, read by nobody yet.
    const other = await gql(
      gateway,
      report,
      {},
      bearer(await jwt({ idn: s1.idNumber }, { sub: 'citizen-s1' })),
    );
    expect(other.errors).toBeUndefined();
    expect(other.data!.myAccessReport.edges).toEqual([]);

    // Pages newest first.
    const page1 = await gql(gateway, report, { first: 1 }, bearer(citizen));
    expect(page1.data!.myAccessReport.edges[0].node.departmentCode).toBe('MPS');
    expect(page1.data!.myAccessReport.pageInfo.hasNextPage).toBe(true);
    const page2 = await gql(
      gateway,
      report,
      { first: 1, after: page1.data!.myAccessReport.pageInfo.endCursor },
      bearer(citizen),
    );
    expect(page2.data!.myAccessReport.edges[0].node.departmentCode).toBe('CA-110105');
    expect(page2.data!.myAccessReport.pageInfo.hasNextPage).toBe(false);
  });

  it('is refused to anyone who is not the person: API keys, the public, tokens without idn', async () => {
    for (const headers of [
      asKey(MPS_KEY, 'criminal_investigation'),
      {},
      bearer(await jwt({ dept: 'MPS', purposes: ['criminal_investigation'] })),
    ]) {
      const r = await gql(gateway, report, {}, headers);
      expect(r.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
      expect(r.data?.myAccessReport ?? null).toBeNull();
    }
    // An officer's token may carry their own idn too: then it is their own report.
    const officer = await jwt(
      { dept: 'MPS', idn: seeded.persons.C!.idNumber, purposes: ['criminal_investigation'] },
      { sub: 'officer-c' },
    );
    const r = await gql(gateway, report, {}, bearer(officer));
    expect(r.errors).toBeUndefined();
    expect(r.data!.myAccessReport.edges.length).toBeGreaterThan(0);
  });

  it("personAccessReport needs the steward role, and the steward's look is itself reported", async () => {
    const c = seeded.persons.C!;
    for (const headers of [
      asKey(COUNTY_KEY, 'social_assistance'),
      asKey(MPS_KEY, 'criminal_investigation'),
      {},
      bearer(await jwt({ idn: c.idNumber }, { sub: 'citizen-c' })),
    ]) {
      const r = await gql(gateway, stewardReport, { id: c.idNumber }, headers);
      expect(r.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
      expect(r.errors?.[0]?.message).toContain('steward');
    }
    // Stewards by key or by a token with the role.
    const steward = await gql(
      gateway,
      stewardReport,
      { id: c.idNumber },
      asKey(STEWARD_KEY, 'data_governance'),
    );
    expect(steward.errors).toBeUndefined();
    const departments = steward.data!.personAccessReport.edges.map(
      (e: { node: { departmentCode: string } }) => e.node.departmentCode,
    );
    expect(departments).toEqual(expect.arrayContaining(['MPS', 'CA-110105']));
    expect(departments).not.toContain('SAMR-440000');
    const viaToken = await gql(
      gateway,
      stewardReport,
      { id: c.idNumber },
      bearer(await jwt({ dept: 'PLATFORM', roles: ['steward'] }, { sub: 'steward-1' })),
    );
    expect(viaToken.errors).toBeUndefined();
    // Input errors come after the role check.
    const bad = await gql(gateway, stewardReport, { id: '110105198503171234' }, asKey(STEWARD_KEY));
    expect(bad.errors?.[0]?.extensions?.code).toBe('INVALID_ID_NUMBER');
    const nobody = await gql(gateway, stewardReport, { id: '11010519491231002X' }, asKey(STEWARD_KEY));
    expect(nobody.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');

    const mine = await gql(
      gateway,
      `{ myAccessReport { edges { node { departmentCode operation } } } }`,
      {},
      bearer(await jwt({ idn: c.idNumber }, { sub: 'citizen-c' })),
    );
    expect(mine.data!.myAccessReport.edges[0].node).toEqual({
      departmentCode: 'PLATFORM',
      operation: 'Steward',
    });
  });
});

describe('query limits', () => {
  const nested = (depth: number) => {
    let q = 'code';
    for (let i = 0; i < depth; i++) q = `parent { ${q} }`;
    return `{ division(code: "110105") { ${q} } }`;
  };
  const aliased = (n: number) =>
    `{ ${Array.from({ length: n }, (_, i) => `a${i}: provinces { code }`).join(' ')} }`;
  const costly = `{ provinces { children { children { children { children { code } } } } } }`;

  it('depth, aliases and cost over the limit are QUERY_TOO_COMPLEX before any SQL runs', async () => {
    // Under the limits, the same shapes run.
    expect((await gql(gateway, nested(5))).errors).toBeUndefined();
    expect((await gql(gateway, aliased(3))).errors).toBeUndefined();

    // Warm the key's principal cache, so authentication itself sends no statement either.
    expect((await gql(gateway, PING, {}, asKey(COUNTY_KEY))).errors).toBeUndefined();
    for (const [label, query, message] of [
      ['depth', nested(20), /depth exceeds/],
      ['aliases', aliased(31), /31 aliases/],
      ['cost', costly, /estimated cost/],
    ] as const) {
      for (const headers of [{}, asKey(COUNTY_KEY)]) {
        const before = db.counter.count;
        const r = await gql(gateway, query, {}, headers);
        expect(db.counter.count, `${label}: no SQL, not even the audit`).toBe(before);
        expect(r.errors?.[0]?.extensions?.code, label).toBe('QUERY_TOO_COMPLEX');
        expect(r.errors?.[0]?.message, label).toMatch(message);
        expect(r.data ?? null).toBeNull();
      }
    }
  });

  it('limits are checked before the credentials: a fresh key or a bad one costs no statement', async () => {
    const { key } = await createKey(db, { department: 'CA-110105', application: 'limits' });
    for (const k of [key, 'gbk_0123456789ab_not-a-key']) {
      const before = db.counter.count;
      const r = await gql(gateway, aliased(31), {}, asKey(k));
      expect(r.errors?.[0]?.extensions?.code).toBe('QUERY_TOO_COMPLEX');
      expect(db.counter.count - before).toBe(0);
    }
    // Within the limits the fresh key is authenticated as usual.
    expect((await gql(gateway, PING, {}, asKey(key))).status).toBe(200);
  });
});

describe('production mode', () => {
  it('turns introspection off (and GraphiQL), while test mode keeps it', async () => {
    const introspect = `{ __schema { queryType { name } } }`;
    const dev = await gql(gateway, introspect);
    expect(dev.data?.__schema?.queryType?.name).toBe('Query');

    const production = createGateway({ db, config: { ...loadConfig({}), mode: 'production' } });
    const r = await gql(production, introspect);
    expect(r.data ?? null).toBeNull();
    expect(r.errors?.[0]?.message).toMatch(/introspection/i);
    const typeName = await gql(production, `{ __type(name: "Person") { fields { name } } }`);
    expect(typeName.errors?.[0]?.message).toMatch(/introspection/i);
    // Ordinary queries still run.
    expect((await gql(production, PING)).errors).toBeUndefined();
    const page = await production.fetch('http://govbase.test/graphql', { headers: { accept: 'text/html' } });
    expect(await page.text()).not.toMatch(/graphiql/i);
  });
});
