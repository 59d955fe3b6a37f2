import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { getTableColumns, getTableName } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FieldEntry } from '../schema/catalogue.ts';
import { DATASETS } from '../schema/datasets.ts';
import {
  entities,
  entitiesHistory,
  households,
  householdsHistory,
  persons,
  personsHistory,
} from '../schema/index.ts';
import { DEMO_PRINCIPALS, installDemoAccess } from '../src/access/demo.ts';
import { buildUscc, parseIdNumber } from '../src/codes/index.ts';
import { ConfigError, loadConfig } from '../src/config.ts';
import { codecFor, encryptedColumns, encryptedTables, openAtRest } from '../src/crypto/at-rest.ts';
import { CryptoError } from '../src/crypto/field-cipher.ts';
import { developmentKekPath, resolveKek } from '../src/crypto/keyring.ts';
import { rotateDataKey, versionCounts } from '../src/crypto/rotate.ts';
import { type Database, openDatabase } from '../src/db/index.ts';
import type { Gateway } from '../src/gateway/server.ts';
import { generateEntities } from '../src/ingest/generate/entities.ts';
import { generatePopulation } from '../src/ingest/generate/population.ts';
import { runImport } from '../src/ingest/import/pipeline.ts';
import { insertEntities, updateEntity } from '../src/registries/legal-entity/entity-writes.ts';
import { TEST_KEK, type TestDatabase, testDatabase } from '../src/testing/database.ts';
import { insertPerson } from '../src/testing/factories.ts';
import { asKey, gql, testGateway } from '../src/testing/gateway.ts';
import { person, tempDir, writeCsv } from './import-fixtures.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const AS_OF = '2025-06-30';
const SERVER = !!process.env.DATABASE_URL;
const KEK = Buffer.from(TEST_KEK, 'hex');

/** Text that is, or holds, a citizen ID number (18 digits with a valid check character) or a mobile number. */
const ID_RUN = /(?<![0-9])[0-9]{17}[0-9Xx](?![0-9])/g;
const PHONE_RUN = /(?<![0-9])1[3-9][0-9]{9}(?![0-9])/;

/** Every string value of every row of `table`, by column, as the database holds it. */
async function rawStrings(db: Database, table: string): Promise<{ column: string; value: string }[]> {
  const rows = await db.query<{ j: Record<string, unknown> }>(`SELECT to_jsonb(t) AS j FROM ${table} t`);
  const out: { column: string; value: string }[] = [];
  for (const { j } of rows) {
    for (const [column, value] of Object.entries(j))
      if (typeof value === 'string') out.push({ column, value });
  }
  return out;
}

/** Clear values of every encrypted column, sorted per table and column: what a rotation must keep. */
async function clearSnapshot(db: Database): Promise<Record<string, string[]>> {
  const codec = codecFor(db);
  const out: Record<string, string[]> = {};
  for (const table of encryptedTables()) {
    for (const { column } of encryptedColumns(table)) {
      const rows = await db.query<{ v: string | null }>(`SELECT ${column} AS v FROM ${table}`);
      out[`${table}.${column}`] = rows.map((r) => String(codec.decodeValue(r.v))).sort();
    }
  }
  return out;
}

/** Versions, validity and change-log size: a re-encryption changes none of them. */
async function bookkeeping(db: Database) {
  const [row] = await db.query<Record<string, unknown>>(
    `SELECT (SELECT count(*)::int FROM persons_history) AS persons_history,
            (SELECT count(*)::int FROM entities_history) AS entities_history,
            (SELECT count(*)::int FROM households_history) AS households_history,
            (SELECT count(*)::int FROM change_log) AS change_log,
            (SELECT md5(string_agg(id || ':' || version || ':' || valid_from || ':' || updated_at, ',' ORDER BY id))
               FROM persons) AS persons,
            (SELECT md5(string_agg(id || ':' || version || ':' || updated_at, ',' ORDER BY id)) FROM entities) AS entities`,
  );
  return row!;
}

/** A population with entities, shareholders and history rows under the test keys. */
async function populate(db: Database, persons: number): Promise<void> {
  await generatePopulation(db, {
    persons,
    seed: 'crypto',
    asOf: AS_OF,
    defects: { missing_required_field: 0.02, bad_check_digit: 0.01 },
  });
  await generateEntities(db, { entities: 60, seed: 'crypto', asOf: AS_OF });
  // History rows: renamed persons, renamed entities, households whose head changed.
  await db.query(`UPDATE persons SET name = name || '甲' WHERE id <= 10`);
  await db.query(`UPDATE households SET head_person_id = NULL WHERE id <= 5`);
  const some = await db.query<{ uscc: string }>('SELECT uscc FROM entities ORDER BY id LIMIT 3');
  for (const { uscc } of some)
    await updateEntity(db, uscc, { name: `改名${uscc.slice(-4)}有限公司` }, { dept: 'SAMR' });
}

describe('the catalogue decides what is encrypted at rest', () => {
  it('encrypts every sensitive personal text field, with a blind index beside it; geometry stays geometry', () => {
    const encrypted: string[] = [];
    for (const dataset of DATASETS) {
      const columns = getTableColumns(dataset.table) as Record<string, { name: string; columnType: string }>;
      for (const [field, entry] of Object.entries(dataset.fields as Record<string, FieldEntry>)) {
        const column = columns[field]!;
        if (entry.sensitivePersonal && column.columnType === 'PgText') {
          expect(entry.atRest, `${dataset.id}.${field}`).toBeDefined();
        }
        if (entry.atRest) {
          encrypted.push(`${getTableName(dataset.table)}.${column.name}`);
          expect(columns[`${field}Bidx`]?.name, `${dataset.id}.${field}`).toBe(`${column.name}_bidx`);
          expect((dataset.fields as Record<string, FieldEntry>)[`${field}Bidx`]!.share).toBe('none');
        }
      }
    }
    expect(encrypted.sort()).toEqual(
      [
        'entities.legal_rep_id_number',
        'entities_history.legal_rep_id_number',
        'households.address',
        'households_history.address',
        'persons.hukou_address',
        'persons.id_number',
        'persons.phone',
        'persons.residence_address',
        'persons_history.hukou_address',
        'persons_history.id_number',
        'persons_history.phone',
        'persons_history.residence_address',
        'residences.address',
        'shareholdings.shareholder_id_number',
      ].sort(),
    );
  });

  it('gives the history tables every column of their table (the triggers copy them by name)', () => {
    for (const [table, history] of [
      [persons, personsHistory],
      [entities, entitiesHistory],
      [households, householdsHistory],
    ] as const) {
      const names = (t: typeof table | typeof history) =>
        Object.values(getTableColumns(t))
          .map((c) => c.name)
          .sort();
      expect(names(history)).toEqual([...names(table), 'superseded_at'].sort());
    }
  });
});

describe('stored values', () => {
  let db: TestDatabase;
  let gateway: Gateway;
  let alice: Awaited<ReturnType<typeof insertPerson>>;
  const NATIONAL = DEMO_PRINCIPALS.nationalPublicSecurity.key;
  const CLEAR = asKey(NATIONAL, 'criminal_investigation');

  beforeAll(async () => {
    db = await testDatabase();
    gateway = await testGateway(db);
    await populate(db, 400);
    alice = await insertPerson(db, { name: '李爱丽', county: '110105', phone: '13912345678' });
  });
  afterAll(() => db?.dispose());

  it('a raw SELECT of every table holding sensitive fields shows no ID number or phone number in clear', async () => {
    let scanned = 0;
    for (const table of encryptedTables()) {
      const values = await rawStrings(db, table);
      expect(values.length, table).toBeGreaterThan(0);
      for (const { column, value } of values) {
        scanned++;
        const ids = (value.match(ID_RUN) ?? []).filter((s) => parseIdNumber(s.toUpperCase()).ok);
        expect(ids, `${table}.${column}`).toEqual([]);
        expect(PHONE_RUN.test(value), `${table}.${column}`).toBe(false);
      }
      // The encrypted columns hold ciphertexts (or NULL), nothing else.
      for (const { column } of encryptedColumns(table)) {
        const [row] = await db.query<{ n: number; clear: number }>(
          `SELECT count(${column})::int AS n, count(*) FILTER (WHERE ${column} NOT LIKE 'sm4.%')::int AS clear FROM ${table}`,
        );
        expect(row!.clear, `${table}.${column}`).toBe(0);
      }
    }
    expect(scanned).toBeGreaterThan(10_000);
    // …and the same numbers are there, in clear, behind the keys: the scan was not looking at nothing.
    const [stored] = await db.query<{ id_number: string; phone: string }>(
      'SELECT id_number, phone FROM persons WHERE id = $1',
      [alice.id],
    );
    expect(codecFor(db).decodeValue(stored!.id_number)).toBe(alice.idNumber);
    expect(codecFor(db).decodeValue(stored!.phone)).toBe('13912345678');
  });

  it('the generator writes ciphertexts with blind indexes, which decrypt to the values it meant', async () => {
    const codec = codecFor(db);
    const rows = await db.query<Record<string, string | null>>(
      `SELECT id_number, id_number_bidx, hukou_address, hukou_address_bidx, residence_address, phone, phone_bidx
         FROM persons WHERE source_batch = 'gen-crypto'`,
    );
    expect(rows.length).toBe(400);
    const ciphertexts = new Set<string>();
    let checked = 0;
    for (const row of rows) {
      const idNumber = codec.decodeValue(row.id_number)!;
      expect(idNumber).toMatch(/^[0-9]{17}[0-9X]$/);
      expect(row.id_number_bidx).toBe(codec.blindIndexFor('persons', 'id_number', idNumber));
      if (parseIdNumber(idNumber).ok) checked++;
      expect(codec.decodeValue(row.residence_address)).toMatch(/^.+(省|市|自治区).+/);
      if (row.phone !== null) expect(codec.decodeValue(row.phone)).toMatch(/^1[3-9][0-9]{9}$/);
      expect(row.phone === null).toBe(row.phone_bidx === null);
      // A missing hukou address is NULL, not the ciphertext of nothing.
      expect(row.hukou_address === null).toBe(row.hukou_address_bidx === null);
      for (const c of [row.id_number, row.hukou_address, row.residence_address, row.phone]) {
        if (c === null || c === undefined) continue;
        expect(ciphertexts.has(c)).toBe(false); // a fresh IV for every value
        ciphertexts.add(c);
      }
    }
    expect(checked).toBeGreaterThan(390); // 1 % carry a bad check digit on purpose
    // Household members share an address: equal blind indexes, different ciphertexts.
    const [shared] = await db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM persons a JOIN persons b ON a.household_id = b.household_id AND a.id < b.id
        WHERE a.residence_address_bidx = b.residence_address_bidx AND a.residence_address <> b.residence_address`,
    );
    expect(shared!.n).toBeGreaterThan(100);
  });

  it('the import pipeline writes ciphertexts and blind indexes too, and re-importing the same values changes nothing', async () => {
    await installDemoAccess(db);
    const dir = tempDir();
    try {
      const rows = [
        person({ name: '导入甲', phone: '13700001234' }),
        person({ name: '导入乙', female: false }),
      ];
      const first = await runImport(db, {
        registry: 'persons',
        input: { kind: 'file', path: writeCsv(dir, 'a.csv', rows) },
        sourceDept: 'MPS',
        submittedBy: 'test',
      });
      expect(first).toMatchObject({ status: 'merged', inserted: 2, rejected: 0 });
      const codec = codecFor(db);
      for (const r of rows) {
        const [stored] = await db.query<Record<string, string | null>>(
          `SELECT id_number, phone, hukou_address, residence_address, version FROM persons WHERE id_number_bidx = $1`,
          [codec.blindIndexFor('persons', 'id_number', r.id_number)],
        );
        for (const column of ['id_number', 'phone', 'hukou_address', 'residence_address'] as const) {
          expect(stored![column], column).toMatch(/^sm4\./);
          expect(codec.decodeValue(stored![column]), column).toBe(r[column]);
        }
      }
      // The same records in another file (new ciphertexts would differ): the blind indexes say nothing changed.
      const again = await runImport(db, {
        registry: 'persons',
        input: { kind: 'file', path: writeCsv(dir, 'b.csv', [...rows].reverse()) },
        sourceDept: 'MPS',
        submittedBy: 'test',
      });
      expect(again).toMatchObject({ status: 'merged', inserted: 0, changed: 0 });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('finds a person by ID number and verifies identities through the blind index', async () => {
    const q = `query($id: String!) { person(idNumber: $id) { name idNumber phone residenceAddress hukouAddress } }`;
    const found = await gql(gateway, q, { id: alice.idNumber }, CLEAR);
    expect(found.errors).toBeUndefined();
    expect(found.data!.person).toEqual({
      name: '李爱丽',
      idNumber: alice.idNumber,
      phone: '13912345678',
      residenceAddress: '北京市朝阳区建国路88号3栋2单元501室',
      hukouAddress: '北京市朝阳区建国路88号',
    });
    // A lower-case check character or full-width digits normalise to the same blind index.
    const generated = await db.query<{ id_number: string }>(
      `SELECT id_number FROM persons WHERE source_batch = 'gen-crypto' ORDER BY id LIMIT 40`,
    );
    for (const { id_number } of generated) {
      const idNumber = codecFor(db).decodeValue(id_number)!;
      if (!parseIdNumber(idNumber).ok) continue;
      const r = await gql(
        gateway,
        `query($id: String!) { person(idNumber: $id) { idNumber } }`,
        { id: idNumber },
        CLEAR,
      );
      expect(r.data!.person).toEqual({ idNumber });
    }
    const v = `query($id: String!, $n: String!) { verifyIdentity(idNumber: $id, name: $n) }`;
    const county = asKey(DEMO_PRINCIPALS.countyCivilAffairs.key);
    expect((await gql(gateway, v, { id: alice.idNumber, n: '李爱丽' }, county)).data!.verifyIdentity).toBe(
      'MATCH',
    );
    expect((await gql(gateway, v, { id: alice.idNumber, n: '李爱' }, county)).data!.verifyIdentity).toBe(
      'NAME_MISMATCH',
    );
    expect((await gql(gateway, v, { id: '11010519491231002X', n: 'x' }, county)).data!.verifyIdentity).toBe(
      'NOT_FOUND',
    );
  });

  it('resolves a legal representative given only an ID number against persons, by blind index', async () => {
    const [id] = await insertEntities(
      db,
      [
        {
          uscc: buildUscc('9', '1', '110105', 'MA01CRYP'),
          name: '北京加密测试有限公司',
          legalForm: 'limited_liability_company',
          // Only the number, with a lower-case check character: normalised, then matched by blind index.
          legalRep: { idNumber: alice.idNumber.toLowerCase() },
          establishedOn: '2020-01-01',
          divisionCode: '110105',
          registrationAuthority: '北京市朝阳区市场监督管理局',
        },
      ],
      { dept: 'SAMR' },
    );
    const [row] = await db.query<{
      legal_rep_person_id: number;
      legal_rep_id_number: string;
      legal_rep_name: string;
    }>('SELECT legal_rep_person_id, legal_rep_id_number, legal_rep_name FROM entities WHERE id = $1', [id]);
    expect(Number(row!.legal_rep_person_id)).toBe(alice.id);
    expect(row!.legal_rep_name).toBe('李爱丽');
    expect(row!.legal_rep_id_number).toMatch(/^sm4\./);
    expect(codecFor(db).decodeValue(row!.legal_rep_id_number)).toBe(alice.idNumber);
  });

  it('masks after decrypting, and never decrypts a field the caller may not see', async () => {
    const q = `query($id: String!) { person(idNumber: $id) { phone } }`;
    const ask = (headers: Record<string, string>) => gql(gateway, q, { id: alice.idNumber }, headers);
    const county = asKey(DEMO_PRINCIPALS.countyCivilAffairs.key);
    // A tampered ciphertext: wherever it is decrypted, the MAC fails loudly.
    const [before] = await db.query<{ phone: string }>('SELECT phone FROM persons WHERE id = $1', [alice.id]);
    const raw = Buffer.from(before!.phone.split('.')[2]!, 'base64url');
    raw[20] = raw[20]! ^ 1;
    const tampered = `sm4.${before!.phone.split('.')[1]}.${raw.toString('base64url')}`;
    try {
      await db.query('UPDATE persons SET phone = $2 WHERE id = $1', [alice.id, tampered]);
      const clear = await ask(CLEAR);
      expect(clear.errors?.[0]?.extensions?.code).toBe('INTERNAL_SERVER_ERROR');
      expect(JSON.stringify(clear)).not.toContain('139');
      // Without a purpose the phone is denied before any decryption: refusals, not a MAC failure.
      const listed = await gql(
        gateway,
        `query { persons(divisionCode: "110105", first: 100) { edges { node { name phone } } } }`,
        {},
        asKey(NATIONAL),
      );
      expect(listed.errors!.length).toBeGreaterThan(0);
      expect(new Set(listed.errors!.map((e) => e.extensions?.code))).toEqual(new Set(['PURPOSE_REQUIRED']));
    } finally {
      await db.query('UPDATE persons SET phone = $2 WHERE id = $1', [alice.id, before!.phone]);
    }
    expect((await ask(CLEAR)).data!.person).toEqual({ phone: '13912345678' });
    // A county department sees its residents' numbers masked, derived from the decrypted values.
    const masked = await gql<{ persons: { edges: { node: { idNumber: string; phone: string | null } }[] } }>(
      gateway,
      `query { persons(divisionCode: "110105", first: 100) { edges { node { idNumber phone } } } }`,
      {},
      county,
    );
    expect(masked.errors).toBeUndefined();
    const nodes = masked.data!.persons.edges.map((e) => e.node);
    expect(nodes).toContainEqual({
      idNumber: `${alice.idNumber.slice(0, 6)}********${alice.idNumber.slice(-4)}`,
      phone: '139****5678',
    });
    for (const n of nodes) {
      expect(n.idNumber).toMatch(/^[0-9]{6}\*{8}[0-9]{3}[0-9X]$/);
      if (n.phone !== null) expect(n.phone).toMatch(/^1[0-9]{2}\*{4}[0-9]{4}$/);
    }
  });

  it('tells a real change from a new ciphertext of the same value (blind indexes, not ciphertexts)', async () => {
    const [e] = await db.query<{ uscc: string; version: number; legal_rep_person_id: number }>(
      `SELECT uscc, version, legal_rep_person_id FROM entities WHERE legal_rep_person_id <> $1
         AND legal_rep_id_number IS NOT NULL ORDER BY id DESC LIMIT 1`,
      [alice.id],
    );
    const [p] = await db.query<{ id_number: string }>('SELECT id_number FROM persons WHERE id = $1', [
      e!.legal_rep_person_id,
    ]);
    const logged = async () =>
      (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM change_log'))[0]!.n;
    const before = await logged();
    // The same representative again, number given in clear: a fresh ciphertext, the same blind index.
    const same = await updateEntity(
      db,
      e!.uscc,
      {
        legalRep: {
          personId: Number(e!.legal_rep_person_id),
          idNumber: codecFor(db).decodeValue(p!.id_number),
        },
      },
      { dept: 'SAMR' },
    );
    expect(same).toBe(Number(e!.version));
    expect(await logged()).toBe(before);
    const changed = await updateEntity(db, e!.uscc, { legalRep: { personId: alice.id } }, { dept: 'SAMR' });
    expect(changed).toBe(Number(e!.version) + 1);
    const [log] = await db.query<{ action: string; changed_fields: string[] }>(
      'SELECT action, changed_fields FROM change_log ORDER BY seq DESC LIMIT 1',
    );
    expect(log).toEqual({
      action: 'legal_rep_changed',
      changed_fields: ['legal_rep_id_number', 'legal_rep_name', 'legal_rep_person_id'],
    });
  });
});

describe('the key-encryption key', () => {
  it('a wrong one fails loudly before any value is read or written', async () => {
    const db = await testDatabase();
    try {
      await expect(openAtRest(db, randomBytes(32))).rejects.toThrow(
        /wrapped by another key-encryption key.*GOVBASE_KEK/,
      );
      // Even with the check value forged, the wrapped keys do not open: the MAC fails, no garbage key.
      const wrong = randomBytes(32);
      const { kekId } = await import('../src/crypto/keyring.ts');
      await db.query('UPDATE data_keys SET kek_id = $1', [kekId(wrong)]);
      const error = await openAtRest(db, wrong).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(CryptoError);
      expect((error as Error).message).toMatch(/cannot unwrap .*authentication failed/);
    } finally {
      await db.dispose();
    }
  });

  it('is generated for development beside the data folder, and required in production', () => {
    const dir = mkdtempSync(join(tmpdir(), 'govbase-kek-'));
    try {
      const config = loadConfig({ GOVBASE_DATA_DIR: join(dir, 'data') });
      const first = resolveKek(config);
      expect(first.development).toBe(true);
      const path = developmentKekPath(join(dir, 'data'));
      expect(path.startsWith(join(dir, 'data'))).toBe(true);
      expect(path).not.toMatch(/\/data\//); // beside the data folder, not inside it
      expect(statSync(path).mode & 0o777).toBe(0o600);
      expect(resolveKek(config).key.equals(first.key)).toBe(true);
      expect(() => resolveKek(loadConfig({ GOVBASE_MODE: 'production' }))).toThrow(ConfigError);
      expect(() => resolveKek(loadConfig({ GOVBASE_MODE: 'production', GOVBASE_KEK: 'abc' }))).toThrow(
        /16–64 bytes/,
      );
      const given = resolveKek(loadConfig({ GOVBASE_MODE: 'production', GOVBASE_KEK: TEST_KEK }));
      expect(given).toMatchObject({ source: 'GOVBASE_KEK', development: false });
      expect(given.key.equals(KEK)).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('data-key rotation', () => {
  /** `npm run keys -- rotate …` in a child process against the database at `where`. */
  function keysCli(
    args: string[],
    where: { url?: string; dataDir?: string },
  ): ChildProcess & { stderrText: () => string } {
    const { DATABASE_URL: _url, GOVBASE_DATA_DIR: _dir, ...env } = process.env;
    const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/keys.ts', ...args], {
      cwd: ROOT,
      env: {
        ...env,
        GOVBASE_KEK: TEST_KEK,
        GOVBASE_MODE: 'test',
        ...(where.url ? { DATABASE_URL: where.url } : { GOVBASE_DATA_DIR: where.dataDir! }),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let text = '';
    child.stderr!.on('data', (chunk: Buffer) => {
      text += chunk.toString();
    });
    child.stdout!.on('data', () => undefined);
    return Object.assign(child, { stderrText: () => text });
  }

  const exited = (child: ChildProcess) =>
    new Promise<{ code: number | null; signal: string | null }>((resolve) =>
      child.on('exit', (code, signal) => resolve({ code, signal })),
    );

  it('killed mid-way (SIGKILL) it resumes, and ends with every value under the new key, without history', async () => {
    const source = await testDatabase();
    let dir: string | undefined;
    let db: Database = source;
    const reopen = async (): Promise<Database> => {
      if (SERVER) return source;
      const file = await openDatabase({ dataDir: dir! });
      await openAtRest(file, KEK);
      return file;
    };
    try {
      await populate(source, 300);
      const clear = await clearSnapshot(source);
      const books = await bookkeeping(source);
      const sample = await source.query<{ id_number: string; name: string; phone: string | null }>(
        'SELECT id_number, name, phone FROM persons ORDER BY id LIMIT 30',
      );
      const people = sample.map((p) => ({
        idNumber: codecFor(source).decodeValue(p.id_number)!,
        name: p.name,
        phone: codecFor(source).decodeValue(p.phone),
      }));
      if (!SERVER) {
        // The embedded database belongs to one process: hand a file copy to the CLI.
        dir = mkdtempSync(join(tmpdir(), 'govbase-rotate-'));
        const dump = await source.dumpDataDir!();
        await source.close();
        const file = await openDatabase({ dataDir: dir, loadDataDir: dump });
        await file.close();
      }
      const where = SERVER ? { url: source.url! } : { dataDir: dir! };

      // First run: slowed down, killed once its progress shows rows done.
      const first = keysCli(['rotate', '--batch-size', '25', '--pause-ms', '60'], where);
      const firstExit = exited(first);
      const reads: Promise<void>[] = [];
      const gateway = SERVER ? await testGateway(source) : null;
      const q = `query($id: String!) { person(idNumber: $id) { name phone } }`;
      const headers = asKey(DEMO_PRINCIPALS.nationalPublicSecurity.key, 'criminal_investigation');
      for (;;) {
        const done = [...first.stderrText().matchAll(/\| (\d+)\/(\d+) rows/g)].map((m) => Number(m[1]));
        if (done.some((n) => n > 0)) break;
        if (first.exitCode !== null)
          throw new Error(`rotation ended before it could be killed:\n${first.stderrText()}`);
        if (gateway) {
          // The service keeps answering while values move to the new key (the server only: the embedded
          // database is the CLI's meanwhile).
          const p = people[reads.length % people.length]!;
          reads.push(
            gql(gateway, q, { id: p.idNumber }, headers).then((r) => {
              expect(r.errors).toBeUndefined();
              expect(r.data!.person).toEqual({ name: p.name, phone: p.phone });
            }),
          );
        }
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      first.kill('SIGKILL');
      expect((await firstExit).signal).toBe('SIGKILL');
      await Promise.all(reads);
      if (SERVER) expect(reads.length).toBeGreaterThan(5);

      db = await reopen();
      const [open] = await db.query<{ finished_at: Date | null; rewritten: number }>(
        'SELECT finished_at, rewritten FROM key_rotations WHERE target_version = 2',
      );
      expect(open!.finished_at).toBeNull();
      expect(Number(open!.rewritten)).toBeGreaterThan(0);
      const midway = new Set((await versionCounts(db)).map((c) => c.version));
      expect([...midway].sort()).toEqual([1, 2]); // some values moved, some not yet
      // Mid-way, every value still reads (old and new keys alike).
      expect(await clearSnapshot(db)).toEqual(clear);
      if (!SERVER) await db.close();

      // Second run: resumes the same rotation and finishes it.
      const second = keysCli(['rotate', '--batch-size', '200'], where);
      const secondExit = await exited(second);
      expect(secondExit.code, second.stderrText()).toBe(0);
      expect(second.stderrText()).toContain('resuming the rotation to data key v2');
      expect(second.stderrText()).toMatch(/rotation to data key v2 finished/);

      db = await reopen();
      expect(new Set((await versionCounts(db)).map((c) => c.version))).toEqual(new Set([2]));
      expect(await clearSnapshot(db)).toEqual(clear);
      // A re-encryption is no change: no history row, no new version, no change-log entry.
      expect(await bookkeeping(db)).toEqual(books);
      const keys = await db.query<{ purpose: string; version: number; status: string }>(
        'SELECT purpose, version, status FROM data_keys ORDER BY purpose, version',
      );
      expect(keys).toEqual([
        { purpose: 'data', version: 1, status: 'retired' },
        { purpose: 'data', version: 2, status: 'active' },
        { purpose: 'index', version: 1, status: 'active' },
      ]);
      // Lookups still work: the blind indexes did not move.
      const after = await testGateway(db);
      for (const p of people.slice(0, 5)) {
        const r = await gql(after, q, { id: p.idNumber }, headers);
        expect(r.data!.person).toEqual({ name: p.name, phone: p.phone });
      }
      // A second rotation in-process goes to v3 and leaves nothing behind.
      const third = await rotateDataKey(db, { batchSize: 500 });
      expect(third).toMatchObject({ targetVersion: 3, resumed: false, finished: true, remaining: 0 });
      expect(await clearSnapshot(db)).toEqual(clear);
    } finally {
      if (db !== source) await db.close();
      await source.dispose().catch(() => undefined);
      if (dir) rmSync(dir, { recursive: true, force: true });
    }
  }, 900_000);
});
