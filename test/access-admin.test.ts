import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AdminError,
  addDepartment,
  addGrant,
  addPurpose,
  createKey,
  listDepartments,
  listGrants,
  listKeys,
  listPurposes,
  revokeGrant,
  revokeKey,
} from '../src/access/admin.ts';
import { type AccessCommand, parseAccessCommand, runAccessCli, USAGE } from '../src/access/admin-cli.ts';
import { sm3Hex } from '../src/access/sm3.ts';
import type { Database } from '../src/db/index.ts';
import type { Gateway } from '../src/gateway/server.ts';
import { type TestDatabase, testDatabase } from '../src/testing/database.ts';
import { asKey, gql, testGateway } from '../src/testing/gateway.ts';

/** The administration of departments, keys, grants and purposes (npm run access), called directly. */

let db: TestDatabase;
let gateway: Gateway;

beforeAll(async () => {
  db = await testDatabase();
  gateway = await testGateway(db);
});
afterAll(() => db?.dispose());

async function counts(): Promise<Record<string, number>> {
  const [row] = await db.query<Record<string, number>>(
    `SELECT (SELECT count(*)::int FROM departments) AS departments, (SELECT count(*)::int FROM api_keys) AS keys,
            (SELECT count(*)::int FROM grants) AS grants, (SELECT count(*)::int FROM purposes) AS purposes,
            (SELECT count(*)::int FROM grants WHERE valid_to IS NOT NULL) AS ended,
            (SELECT count(*)::int FROM api_keys WHERE revoked_at IS NOT NULL) AS revoked`,
  );
  return row!;
}

/** Expects the operation to be rejected with a message matching `message`, having written nothing. */
async function rejected(work: () => Promise<unknown>, message: RegExp): Promise<void> {
  const before = await counts();
  const error = await work().then(
    () => null,
    (e: unknown) => e,
  );
  expect(error, `expected a rejection matching ${message}`).toBeInstanceOf(AdminError);
  expect((error as Error).message).toMatch(message);
  expect(await counts()).toEqual(before);
}

describe('departments', () => {
  it('adds national and county departments and lists them with their jurisdiction', async () => {
    const county = await addDepartment(db, {
      code: 'CA-110108',
      name: '北京市海淀区民政局',
      kind: 'civil_affairs',
      level: 'county',
      jurisdiction: '110108',
    });
    expect(county).toMatchObject({
      code: 'CA-110108',
      adminLevel: 'county',
      jurisdictionCode: '110108',
      jurisdictionName: '海淀区',
      grants: 0,
      keys: 0,
    });
    await addDepartment(db, { code: 'NHC', name: '国家卫生健康委员会', kind: 'health', level: 'national' });
    const listed = await listDepartments(db);
    expect(listed.map((d) => d.code)).toEqual(
      expect.arrayContaining(['CA-110108', 'NHC', 'CA-110105', 'MPS']),
    );
    expect(listed.find((d) => d.code === 'CA-110105')).toMatchObject({ jurisdictionName: '朝阳区', keys: 1 });
  });

  it('rejects bad codes, levels and jurisdictions with a clear message and writes nothing', async () => {
    const base = {
      code: 'CA-X1',
      name: '测试',
      kind: 'civil_affairs',
      level: 'county',
      jurisdiction: '110105',
    };
    await rejected(
      () => addDepartment(db, { ...base, jurisdiction: '11010X' }),
      /--jurisdiction '11010X' is not valid/,
    );
    await rejected(() => addDepartment(db, { ...base, jurisdiction: '119999' }), /119999 is not a division/);
    await rejected(
      () => addDepartment(db, { ...base, level: 'province' }),
      /朝阳区\) is a county, not a province/,
    );
    await rejected(
      () => addDepartment(db, { ...base, level: 'city', jurisdiction: '371200' }),
      /莱芜市\) was abolished on 2019-01-01/,
    );
    await rejected(
      () => addDepartment(db, { ...base, jurisdiction: undefined }),
      /--jurisdiction is required/,
    );
    await rejected(
      () => addDepartment(db, { ...base, level: 'national' }),
      /--jurisdiction must be omitted for a national department/,
    );
    await rejected(() => addDepartment(db, { ...base, level: 'village' }), /--level 'village' is not one of/);
    await rejected(
      () => addDepartment(db, { ...base, code: 'ca 110105' }),
      /--code 'ca 110105' is not valid/,
    );
    await rejected(() => addDepartment(db, { ...base, kind: 'Civil Affairs' }), /--kind 'Civil Affairs'/);
    await rejected(() => addDepartment(db, { ...base, name: '  ' }), /--name is required/);
    await rejected(() => addDepartment(db, { ...base, code: 'CA-110105' }), /'CA-110105' already exists/);
  });
});

describe('API keys', () => {
  it('shows the secret once and stores only its prefix and SM3 hash', async () => {
    const { key, row } = await createKey(db, {
      department: 'CA-110108',
      application: '低保审核系统',
      roles: 'steward, ,steward',
      expires: '2099-12-31',
    });
    expect(key.startsWith(`${row.prefix}_`)).toBe(true);
    expect(row).toMatchObject({
      departmentCode: 'CA-110108',
      application: '低保审核系统',
      roles: ['steward'],
      status: 'active',
      // The end of 31 December, Beijing time.
      expiresAt: '2099-12-31T16:00:00Z',
    });
    const [stored] = await db.query<Record<string, unknown>>('SELECT * FROM api_keys WHERE prefix = $1', [
      row.prefix,
    ]);
    expect(stored!.key_hash).toBe(sm3Hex(key));
    const secret = key.slice(row.prefix.length + 1);
    expect(JSON.stringify(stored)).not.toContain(secret);
    expect(JSON.stringify(await listKeys(db))).not.toContain(secret);
    expect(JSON.stringify(await listKeys(db))).not.toContain(sm3Hex(key));
  });

  it('rejects unknown departments, bad roles and dates past or impossible, writing nothing', async () => {
    await rejected(
      () => createKey(db, { department: 'NOPE', application: 'x' }),
      /department 'NOPE' is not registered/,
    );
    await rejected(() => createKey(db, { department: 'MPS', application: '' }), /--application is required/);
    await rejected(() => createKey(db, { department: 'MPS', application: 'x', roles: 'Steward' }), /--roles/);
    await rejected(
      () => createKey(db, { department: 'MPS', application: 'x', expires: '2020-01-01' }),
      /--expires 2020-01-01 is already past/,
    );
    await rejected(
      () => createKey(db, { department: 'MPS', application: 'x', expires: '2030-02-30' }),
      /not a calendar date/,
    );
  });

  it('revokes a key once; the key then authenticates no more', async () => {
    const { key, row } = await createKey(db, { department: 'CA-110105', application: 'short-lived' });
    expect((await gql(gateway, '{ provinces { code } }', {}, asKey(key))).status).toBe(200);
    const revoked = await revokeKey(db, { prefix: row.prefix });
    expect(revoked.status).toBe('revoked');
    gateway.authenticator.invalidate();
    expect((await gql(gateway, '{ provinces { code } }', {}, asKey(key))).status).toBe(401);
    await rejected(() => revokeKey(db, { prefix: row.prefix }), /already revoked/);
    await rejected(() => revokeKey(db, { prefix: 'gbk_000000000000' }), /no API key has the prefix/);
    await rejected(() => revokeKey(db, { prefix: key }), /never the secret key itself/);
    await rejected(() => revokeKey(db, { prefix: 'sk-123' }), /--prefix 'sk-123' is not valid/);
  });
});

describe('purposes and grants', () => {
  it('adds a purpose once', async () => {
    await addPurpose(db, {
      code: 'epidemic_response',
      name: '疫情防控',
      legalBasis: '《中华人民共和国传染病防治法》',
    });
    expect((await listPurposes(db)).map((p) => p.code)).toContain('epidemic_response');
    await rejected(
      () => addPurpose(db, { code: 'epidemic_response', name: 'x', legalBasis: 'y' }),
      /'epidemic_response' already exists/,
    );
    await rejected(
      () => addPurpose(db, { code: 'Bad Code', name: 'x', legalBasis: 'y' }),
      /--code 'Bad Code'/,
    );
    await rejected(() => addPurpose(db, { code: 'no_basis', name: 'x' }), /--legal-basis is required/);
  });

  it('grants read access that the gateway honours, and revokes it', async () => {
    const { key } = await createKey(db, { department: 'CA-110108', application: 'grant-test' });
    const q = `{ persons(divisionCode: "110108") { totalCount } }`;
    expect((await gql(gateway, q, {}, asKey(key))).errors?.[0]?.extensions?.code).toBe('FORBIDDEN_DATASET');

    const { grant, notes } = await addGrant(db, {
      department: 'CA-110108',
      dataset: 'population.persons',
      level: 'sensitive',
      until: '2099-06-30',
      grantedBy: 'test',
    });
    expect(grant).toMatchObject({
      departmentCode: 'CA-110108',
      dataset: 'population.persons',
      level: 'sensitive',
      purposes: [],
      canWrite: false,
      status: 'active',
      validTo: '2099-06-30T16:00:00Z',
      grantedBy: 'test',
    });
    // Conditional fields need a purpose, and none was approved: the command says so.
    expect(notes.join('\n')).toMatch(/idNumber.*need an approved purpose/);
    gateway.authenticator.invalidate();
    const allowed = await gql(gateway, q, {}, asKey(key));
    expect(allowed.errors).toBeUndefined();

    const second = await addGrant(db, {
      department: 'CA-110108',
      dataset: 'population.persons',
      level: 'restricted',
      purposes: 'social_assistance,epidemic_response',
      write: true,
    });
    expect(second.grant).toMatchObject({
      purposes: ['social_assistance', 'epidemic_response'],
      canWrite: true,
    });
    expect(second.notes.join('\n')).toMatch(/already holds grant\(s\) #\d+ .*grants combine/);
    expect(second.grant.grantedBy).toMatch(/^cli/);

    const listed = await listGrants(db, { department: 'CA-110108' });
    expect(listed.map((g) => g.id)).toEqual([grant.id, second.grant.id]);
    for (const g of [grant, second.grant]) await revokeGrant(db, { id: g.id });
    gateway.authenticator.invalidate();
    expect((await gql(gateway, q, {}, asKey(key))).errors?.[0]?.extensions?.code).toBe('FORBIDDEN_DATASET');
    expect((await listGrants(db, { department: 'CA-110108' })).every((g) => g.status === 'ended')).toBe(true);
  });

  it('rejects unknown datasets, departments, levels, purposes and grants, writing nothing', async () => {
    const base = { department: 'CA-110108', dataset: 'population.persons', level: 'internal' };
    await rejected(
      () => addGrant(db, { ...base, dataset: 'population.people' }),
      /--dataset 'population.people' is not a dataset/,
    );
    await rejected(
      () => addGrant(db, { ...base, department: 'NOPE' }),
      /department 'NOPE' is not registered/,
    );
    await rejected(
      () => addGrant(db, { ...base, level: 'secret' }),
      /--level 'secret' is not one of public, internal/,
    );
    await rejected(() => addGrant(db, { ...base, level: '3' }), /--level '3'/);
    await rejected(
      () => addGrant(db, { ...base, purposes: 'social_assistance,mind_reading' }),
      /--purposes: mind_reading not registered/,
    );
    await rejected(
      () => addGrant(db, { ...base, until: 'tomorrow' }),
      /--until 'tomorrow' is not a calendar date/,
    );
    await rejected(() => listGrants(db, { department: 'NOPE' }), /department 'NOPE' is not registered/);
    await rejected(() => revokeGrant(db, { id: 'abc' }), /--id 'abc' is not a grant id/);
    await rejected(() => revokeGrant(db, { id: '999999' }), /no grant has the id 999999/);
  });
});

describe('the command line', () => {
  function run(argv: string[]) {
    const out: string[] = [];
    const err: string[] = [];
    let opened = 0;
    const code = runAccessCli(argv, { out: (l) => out.push(l), err: (l) => err.push(l) }, async (work) => {
      opened++;
      await work(db as Database);
    });
    return code.then((exit) => ({ exit, out: out.join('\n'), err: err.join('\n'), opened }));
  }

  it('parses every command and its options', () => {
    const parsed: AccessCommand = parseAccessCommand([
      'grants',
      'add',
      '--department',
      'MPS',
      '--dataset',
      'population.persons',
      '--level',
      'sensitive',
      '--purposes',
      'a,b',
      '--write',
      '--until',
      '2030-01-01',
    ]);
    expect(parsed).toEqual({
      group: 'grants',
      action: 'add',
      options: {
        department: 'MPS',
        dataset: 'population.persons',
        level: 'sensitive',
        purposes: 'a,b',
        write: true,
        until: '2030-01-01',
      },
    });
    expect(() => parseAccessCommand(['grants', 'add', '--bogus', 'x'])).toThrow(AdminError);
    expect(() => parseAccessCommand(['grants'])).toThrow(/'grants' needs one of: add, list, revoke/);
    expect(() => parseAccessCommand(['tokens', 'list'])).toThrow(/unknown command 'tokens'/);
    expect(() => parseAccessCommand(['keys', 'list', 'extra'])).toThrow(AdminError);
  });

  it('exits 2 on a usage error without opening the database', async () => {
    for (const argv of [[], ['keys'], ['keys', 'create', '--dept', 'MPS'], ['nope']]) {
      const r = await run(argv);
      expect(r.exit, argv.join(' ')).toBe(2);
      expect(r.opened).toBe(0);
      expect(r.err).toContain('usage: npm run access');
    }
    const help = await run(['help']);
    expect(help).toMatchObject({ exit: 0, opened: 0 });
    expect(help.out).toBe(USAGE);
  });

  it('exits 2 on a rejected command, 0 on success, and prints tables', async () => {
    const bad = await run([
      'grants',
      'add',
      '--department',
      'MPS',
      '--dataset',
      'x.y',
      '--level',
      'internal',
    ]);
    expect(bad.exit).toBe(2);
    expect(bad.err).toBe("error: --dataset 'x.y' is not a dataset (see: datasets in schema/datasets.ts)");
    const division = await run([
      'departments',
      'add',
      '--code',
      'X-1',
      '--name',
      'x',
      '--kind',
      'x',
      '--level',
      'county',
      '--jurisdiction',
      '999999',
    ]);
    expect(division.exit).toBe(2);
    expect(division.err).toMatch(/^error: --jurisdiction '999999' is not valid: /);

    const created = await run(['keys', 'create', '--department', 'MPS', '--application', 'cli-test']);
    expect(created.exit).toBe(0);
    const secret = /^\s+(gbk_\S+)$/m.exec(created.out)?.[1];
    expect(secret).toBeDefined();
    expect(created.out).toMatch(/shown once/);
    const listed = await run(['keys', 'list']);
    expect(listed.exit).toBe(0);
    expect(listed.out.split('\n')[0]).toMatch(/^prefix\s+departmentCode\s+application\s+roles\s+status/);
    expect(listed.out).toContain('cli-test');
    expect(listed.out).not.toContain(secret!.slice(secret!.indexOf('_', 4) + 1));

    const grants = await run(['grants', 'list', '--department', 'CA-110105']);
    expect(grants.exit).toBe(0);
    expect(grants.out).toMatch(/CA-110105\s+population\.persons\s+restricted\s+social_assistance/);
    const departments = await run(['departments', 'list']);
    expect(departments.out).toMatch(/CA-110105\s+北京市朝阳区民政局/);
    const purposes = await run(['purposes', 'list']);
    expect(purposes.out).toContain('criminal_investigation');
  });

  it('npm run access is the same command line: a usage error exits 2 before any database work', () => {
    const r = spawnSync('npx', ['tsx', 'scripts/access.ts', 'grants', 'add', '--level'], {
      cwd: new URL('..', import.meta.url).pathname,
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/error: grants add: .*--level/);
    expect(r.stderr).toContain('usage: npm run access');
  });
});
