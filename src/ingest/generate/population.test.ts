import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildIdNumber, parseIdNumber } from '../../codes/id-number.ts';
import { codecFor } from '../../crypto/at-rest.ts';
import type { Queryable } from '../../db/index.ts';
import { type TestDatabase, testDatabase } from '../../testing/database.ts';
import { createRng } from '../synthetic/index.ts';
import {
  DEFECT_KINDS,
  type DefectKind,
  type GenerateOptions,
  type GenerationManifest,
  generatePopulation,
  normaliseOptions,
  renameCoincidences,
} from './population.ts';

const AS_OF = '2024-06-30';

/**
 * SQL for the county-level code of a town (or county) code. Not `left(code, 6)`: the towns of 嘉峪关
 * 620200 have codes 620201xxx.
 */
const county = (code: string) =>
  `coalesce((SELECT t.parent_code FROM divisions t WHERE t.code = ${code} AND t.level = 'town'), ${code})`;
const PERSONS = 3000;
const RATE = 0.01;
const OPTIONS: GenerateOptions = {
  persons: PERSONS,
  seed: 'population-test',
  asOf: AS_OF,
  defects: Object.fromEntries(DEFECT_KINDS.map((k) => [k, RATE])),
};

/** ID numbers (and addresses, phones) are stored encrypted: a test reads them in clear through the codec. */
const clear = (db: Queryable, stored: string | null) => codecFor(db).decodeValue(stored);

/**
 * `clear_persons`, `clear_residences`, `clear_households`: copies of the tables with the encrypted columns
 * decrypted, so the shape checks below can stay set-based SQL. Rebuilt after each generation.
 */
async function clearCopies(db: Queryable): Promise<void> {
  const codec = codecFor(db);
  for (const [table, columns] of [
    ['persons', ['id_number', 'hukou_address', 'residence_address', 'phone']],
    ['residences', ['address']],
    ['households', ['address']],
  ] as const) {
    await db.query(`DROP TABLE IF EXISTS clear_${table}`);
    await db.query(`CREATE TABLE clear_${table} AS SELECT * FROM ${table}`);
    const rows = await db.query<Record<string, unknown>>(`SELECT id, ${columns.join(', ')} FROM ${table}`);
    for (const row of rows) codec.decodeRow(table, row);
    await db.query(
      `UPDATE clear_${table} c SET ${columns.map((c) => `${c} = v.${c}`).join(', ')}
         FROM jsonb_to_recordset($1::jsonb) AS v(id bigint, ${columns.map((c) => `${c} text`).join(', ')})
        WHERE c.id = v.id`,
      [JSON.stringify(rows)],
    );
  }
}

/** The checks a quality pass would run, written independently of the generator, over persons with id > after. */
async function detectDefects(db: Queryable, after = 0): Promise<Record<DefectKind, number[]>> {
  const rows = await db.query<{ id: number; id_number: string; gender: string; birth_date: string }>(
    'SELECT id, id_number, gender, birth_date FROM persons WHERE id > $1 ORDER BY id',
    [after],
  );
  for (const r of rows) r.id_number = clear(db, r.id_number)!;
  const badCheck: number[] = [];
  const dateMismatch: number[] = [];
  for (const r of rows) {
    const parsed = parseIdNumber(r.id_number, AS_OF);
    if (!parsed.ok) {
      expect(parsed.reason, `${r.id_number}`).toBe('check_digit');
      badCheck.push(r.id);
      continue;
    }
    // Gender must always agree with the sequence parity.
    expect(parsed.value.gender === 'male' ? '1' : '2', `gender of ${r.id_number}`).toBe(r.gender);
    if (parsed.value.birthDate !== r.birth_date) dateMismatch.push(r.id);
  }
  const outside = await db.query<{ id: number }>(
    `WITH finest AS (
       SELECT c.code, COALESCE(c.boundary, p.boundary, g.boundary) AS boundary
         FROM divisions c JOIN divisions p ON p.code = c.parent_code LEFT JOIN divisions g ON g.code = p.parent_code
        WHERE c.valid_to IS NULL AND (c.level = 'county' OR c.code IN ('441900', '442000', '460400', '620200'))
     )
     SELECT p.id FROM persons p JOIN finest f ON f.code = ${county('p.residence_division_code')}
      WHERE p.id > $1 AND NOT ST_Covers(f.boundary, p.residence_point) ORDER BY p.id`,
    [after],
  );
  const missing = await db.query<{ id: number }>(
    'SELECT id FROM persons WHERE id > $1 AND hukou_address IS NULL ORDER BY id',
    [after],
  );
  // Every group of persons sharing the key: all but the lowest id are the extra records.
  const duplicates = await db.query<{ id: number }>(
    `SELECT unnest((array_agg(id ORDER BY id))[2:]) AS id FROM persons
      GROUP BY name, gender, birth_date, hukou_division_code HAVING count(*) > 1 AND max(id) > $1 ORDER BY 1`,
    [after],
  );
  return {
    bad_check_digit: badCheck,
    birth_date_mismatch: dateMismatch,
    point_outside_division: outside.map((r) => r.id),
    missing_required_field: missing.map((r) => r.id),
    duplicate_person: duplicates.map((r) => r.id),
  };
}

async function count(db: Queryable, sql: string, params: unknown[] = []): Promise<number> {
  const [row] = await db.query<{ n: number }>(`SELECT (${sql})::int AS n`, params);
  return row!.n;
}

/**
 * A digest of the content in clear: ciphertexts differ on every run (fresh IVs), and blind indexes are keyed
 * by the database's own index key (copies of a template rebuilt mid-run have other keys), so both are left
 * out; the values they stand for are in.
 */
async function contentHash(db: Queryable): Promise<string> {
  const hash = createHash('sha256');
  for (const [table, sql] of [
    [
      'persons',
      `SELECT id, id_number, name, gender, birth_date, ethnicity, hukou_division_code, hukou_address,
              residence_division_code, residence_address, residence_point::text AS point, marital_status,
              education, phone, status, death_date, household_id FROM persons ORDER BY id`,
    ],
    [
      'households',
      'SELECT id, household_number, type, head_person_id, division_code, address FROM households ORDER BY id',
    ],
    [
      'household_members',
      'SELECT id, household_id, person_id, relation, valid_from, valid_to FROM household_members ORDER BY id',
    ],
    [
      'residences',
      'SELECT id, person_id, division_code, address, point::text, valid_from FROM residences ORDER BY id',
    ],
    ['vital_events', 'SELECT id, person_id, type, event_date, division_code FROM vital_events ORDER BY id'],
  ] as const) {
    const rows = await db.query<Record<string, unknown>>(sql);
    for (const row of rows) codecFor(db).decodeRow(table, row);
    hash.update(JSON.stringify(rows));
  }
  return hash.digest('hex');
}

describe('generatePopulation', () => {
  let db: TestDatabase;
  let manifest: GenerationManifest;
  let firstHash: string;
  const progress: [number, number][] = [];

  beforeAll(async () => {
    db = await testDatabase();
    manifest = await generatePopulation(db, { ...OPTIONS, onProgress: (d, t) => progress.push([d, t]) });
    firstHash = await contentHash(db);
    await clearCopies(db);
  });
  afterAll(async () => {
    await db?.dispose();
  });

  it('writes the requested persons with their households, memberships, residences and births', async () => {
    expect(manifest.persons).toBe(PERSONS);
    expect(manifest.asOf).toBe(AS_OF);
    expect(manifest.batch).toBe('gen-population-test');
    expect(progress.at(-1)).toEqual([PERSONS, PERSONS]);
    expect(await count(db, 'SELECT count(*) FROM persons')).toBe(PERSONS);
    expect(await count(db, 'SELECT max(id) FROM persons')).toBe(PERSONS);
    expect(await count(db, 'SELECT count(*) FROM households')).toBe(manifest.households);
    expect(manifest.households).toBeGreaterThan(PERSONS / 3);
    expect(manifest.households).toBeLessThan(PERSONS / 2);
    // Exactly one membership, one current residence and one birth event per person.
    for (const [table, where] of [
      ['household_members', 'true'],
      ['residences', 'x.valid_to IS NULL'],
      ['vital_events', "x.type = 'birth'"],
    ]) {
      expect(
        await count(
          db,
          `SELECT count(*) FROM persons p
            WHERE (SELECT count(*) FROM ${table} x WHERE x.person_id = p.id AND ${where}) <> 1`,
        ),
        table,
      ).toBe(0);
    }
    expect(await count(db, 'SELECT count(*) FROM household_members')).toBe(PERSONS);
    expect(await count(db, 'SELECT count(*) FROM residences')).toBe(PERSONS);
    // Provenance.
    for (const table of ['persons', 'households', 'household_members', 'residences', 'vital_events']) {
      expect(
        await count(db, `SELECT count(*) FROM ${table} WHERE source_dept <> 'MPS' OR source_batch <> $1`, [
          manifest.batch,
        ]),
      ).toBe(0);
    }
  });

  it('injects each defect on distinct persons at the requested rate, and lists exactly those', async () => {
    const found = await detectDefects(db);
    const seen = new Set<number>();
    for (const kind of DEFECT_KINDS) {
      const listed = manifest.defects[kind];
      expect(listed.personIds.length, kind).toBe(Math.round(RATE * PERSONS));
      expect(found[kind], kind).toEqual(listed.personIds);
      for (const id of listed.personIds) {
        expect(seen.has(id), `${kind} ${id} also has another defect`).toBe(false);
        seen.add(id);
      }
      const numbers = await db.query<{ id: number; id_number: string }>(
        'SELECT id, id_number FROM persons WHERE id = ANY($1::bigint[]) ORDER BY id',
        [listed.personIds],
      );
      expect(
        numbers.map((r) => clear(db, r.id_number)),
        kind,
      ).toEqual(listed.idNumbers);
    }
  });

  it('makes each duplicate a pair with a clean original of the same county and a different valid ID', async () => {
    const pairs = await db.query<{ ids: number[]; numbers: string[] }>(
      `SELECT array_agg(id ORDER BY id) AS ids, array_agg(id_number ORDER BY id) AS numbers FROM clear_persons
        GROUP BY name, gender, birth_date, hukou_division_code HAVING count(*) > 1`,
    );
    expect(pairs.length).toBe(manifest.defects.duplicate_person.personIds.length);
    const defective = new Set(DEFECT_KINDS.flatMap((k) => manifest.defects[k].personIds));
    for (const { ids, numbers } of pairs) {
      expect(ids.length).toBe(2);
      expect(defective.has(Number(ids[0]))).toBe(false);
      expect(numbers[0]).not.toBe(numbers[1]);
      expect(numbers[0]!.slice(0, 14)).toBe(numbers[1]!.slice(0, 14));
      expect(parseIdNumber(numbers[1]!, AS_OF).ok).toBe(true);
    }
  });

  it('puts defective points far away, in another province', async () => {
    const near = await count(
      db,
      `SELECT count(*) FROM persons p JOIN divisions d ON d.code = left(p.residence_division_code, 2) || '0000'
        WHERE p.id = ANY($1::bigint[]) AND ST_DWithin(d.boundary, p.residence_point, 0.5)`,
      [manifest.defects.point_outside_division.personIds],
    );
    expect(near).toBe(0);
    // The residence history carries the same point as the person.
    expect(
      await count(
        db,
        `SELECT count(*) FROM persons p JOIN residences r ON r.person_id = p.id
          WHERE NOT ST_Equals(r.point, p.residence_point) OR r.division_code <> p.residence_division_code
             OR r.address_bidx <> p.residence_address_bidx OR r.address = p.residence_address`,
      ),
    ).toBe(0);
  });

  it('uses current towns of current counties, ID address codes of the hukou county, and full addresses', async () => {
    expect(
      await count(
        db,
        `SELECT count(*) FROM clear_persons p
          WHERE NOT EXISTS (SELECT 1 FROM divisions t WHERE t.code = p.hukou_division_code AND t.valid_to IS NULL
                              AND t.level = 'town')
             OR NOT EXISTS (SELECT 1 FROM divisions t WHERE t.code = p.residence_division_code
                              AND t.valid_to IS NULL AND t.level = 'town')
             OR left(p.id_number, 6) <> ${county('p.hukou_division_code')}
             OR left(p.hukou_division_code, 2) <> left(p.residence_division_code, 2)`,
      ),
    ).toBe(0);
    // Addresses start with province [+ city] + county + town names.
    const wrong = await db.query<{ id: number; hukou_address: string }>(
      `WITH names AS (
         SELECT t.code, CASE WHEN p.level = 'province' THEN p.name ELSE g.name || p.name END || c.name || t.name AS prefix
           FROM divisions t JOIN divisions c ON c.code = t.parent_code JOIN divisions p ON p.code = c.parent_code
           LEFT JOIN divisions g ON g.code = p.parent_code
          WHERE t.level = 'town' AND c.code NOT IN ('441900', '442000', '460400', '620200')
         UNION ALL
         SELECT t.code, p.name || c.name || t.name FROM divisions t JOIN divisions c ON c.code = t.parent_code
           JOIN divisions p ON p.code = c.parent_code WHERE c.code IN ('441900', '442000', '460400', '620200')
       )
       SELECT x.id, x.hukou_address FROM clear_persons x
         JOIN names h ON h.code = x.hukou_division_code JOIN names r ON r.code = x.residence_division_code
        WHERE NOT starts_with(coalesce(x.hukou_address, h.prefix), h.prefix)
           OR NOT starts_with(x.residence_address, r.prefix)
           OR length(x.residence_address) < length(r.prefix) + 3`,
    );
    expect(wrong).toEqual([]);
    const [sample] = await db.query<{ a: string }>(
      "SELECT hukou_address AS a FROM clear_persons WHERE hukou_division_code LIKE '1101%' LIMIT 1",
    );
    if (sample) expect(sample.a).toMatch(/^北京市[^市]+区/);
  });

  it('spreads persons by province population and keeps about 15 % migrants, each with a move-in', async () => {
    const byProvince = await db.query<{ p: string; n: number }>(
      'SELECT left(hukou_division_code, 2) AS p, count(*)::int AS n FROM persons GROUP BY 1',
    );
    const share = (p: string) => (byProvince.find((r) => r.p === p)?.n ?? 0) / PERSONS;
    expect(share('44')).toBeGreaterThan(0.07); // 广东 8.9 %
    expect(share('44')).toBeLessThan(0.11);
    expect(share('54')).toBeLessThan(0.01); // 西藏 0.26 %
    expect(byProvince.some((r) => ['71', '81', '82'].includes(r.p))).toBe(false);
    const migrants = await count(
      db,
      `SELECT count(*) FROM persons WHERE ${county('hukou_division_code')} <> ${county('residence_division_code')}`,
    );
    expect(migrants / PERSONS).toBeGreaterThan(0.1);
    expect(migrants / PERSONS).toBeLessThan(0.2);
    expect(
      await count(
        db,
        `SELECT count(*) FROM persons p
          WHERE (${county('p.hukou_division_code')} <> ${county('p.residence_division_code')})
             <> EXISTS (SELECT 1 FROM vital_events e WHERE e.person_id = p.id AND e.type = 'move_in'
                          AND e.division_code = p.residence_division_code)`,
      ),
    ).toBe(0);
    // The residence starts at the move-in for migrants, at birth for the others.
    expect(
      await count(
        db,
        `SELECT count(*) FROM persons p JOIN residences r ON r.person_id = p.id
           JOIN vital_events b ON b.person_id = p.id AND b.type = 'birth'
           LEFT JOIN vital_events m ON m.person_id = p.id AND m.type = 'move_in'
          WHERE r.valid_from <> coalesce(m.event_date, b.event_date) OR b.division_code <> ${county('p.hukou_division_code')}`,
      ),
    ).toBe(0);
  });

  it('records deaths and marriages consistently', async () => {
    const deceased = await count(db, "SELECT count(*) FROM persons WHERE status = 'deceased'");
    expect(deceased / PERSONS).toBeGreaterThan(0.002);
    expect(deceased / PERSONS).toBeLessThan(0.015);
    expect(
      await count(
        db,
        `SELECT count(*) FROM persons p
          WHERE (p.status = 'deceased') <> (p.death_date IS NOT NULL)
             OR (p.status = 'deceased') <> EXISTS (SELECT 1 FROM vital_events e WHERE e.person_id = p.id
                                                    AND e.type = 'death' AND e.event_date = p.death_date)
             OR p.death_date > $1::date`,
        [AS_OF],
      ),
    ).toBe(0);
    expect(
      await count(
        db,
        `SELECT count(*) FROM persons p
          WHERE (p.marital_status IN ('20', '30', '40'))
             <> EXISTS (SELECT 1 FROM vital_events e WHERE e.person_id = p.id AND e.type = 'marriage')`,
      ),
    ).toBe(0);
    expect(await count(db, "SELECT count(*) FROM persons WHERE marital_status = '20'")).toBeGreaterThan(
      PERSONS / 3,
    );
    expect(await count(db, 'SELECT count(*) FROM vital_events WHERE event_date > $1::date', [AS_OF])).toBe(0);
    // Nothing happens before birth or after death.
    expect(
      await count(
        db,
        `SELECT count(*) FROM vital_events e JOIN vital_events b ON b.person_id = e.person_id AND b.type = 'birth'
           JOIN persons p ON p.id = e.person_id
           JOIN household_members m ON m.person_id = p.id JOIN residences r ON r.person_id = p.id
          WHERE e.event_date < b.event_date OR e.event_date > coalesce(p.death_date, $1::date)
             OR m.valid_from < b.event_date OR m.valid_from > coalesce(p.death_date, $1::date)
             OR m.valid_to IS DISTINCT FROM p.death_date OR r.valid_from > coalesce(p.death_date, $1::date)`,
        [AS_OF],
      ),
    ).toBe(0);
  });

  it('links every person to one household with one head', async () => {
    expect(
      await count(
        db,
        `SELECT count(*) FROM persons p JOIN household_members m ON m.person_id = p.id
          WHERE p.household_id IS DISTINCT FROM m.household_id`,
      ),
    ).toBe(0);
    expect(
      await count(
        db,
        `SELECT count(*) FROM households h
          WHERE (SELECT count(*) FROM household_members m WHERE m.household_id = h.id AND m.relation = '02') <> 1
             OR NOT EXISTS (SELECT 1 FROM household_members m WHERE m.household_id = h.id
                              AND m.person_id = h.head_person_id AND m.relation = '02')
             OR h.division_code <> (SELECT hukou_division_code FROM persons WHERE id = h.head_person_id)
             OR h.household_number !~ '^[0-9]{15}$' OR left(h.household_number, 6) <> ${county('h.division_code')}`,
      ),
    ).toBe(0);
    expect(await count(db, 'SELECT count(DISTINCT household_number) FROM households')).toBe(
      manifest.households,
    );
    expect(
      await count(
        db,
        `SELECT count(*) FROM household_members
          WHERE relation NOT IN ('02', '10', '20', '30', '40', '50', '70', '99')`,
      ),
    ).toBe(0);
  });

  it('moves the id sequences past the generated rows', async () => {
    for (const table of ['persons', 'households', 'household_members', 'residences', 'vital_events']) {
      const [row] = await db.query<{ ok: boolean }>(
        `SELECT (SELECT last_value FROM ${table}_id_seq) >= (SELECT max(id) FROM ${table}) AS ok`,
      );
      expect(row?.ok, table).toBe(true);
    }
  });

  it('appends a second run (same seed) to a non-empty database without collisions', async () => {
    const before = await count(db, 'SELECT max(id) FROM persons');
    const second = await generatePopulation(db, { ...OPTIONS, batch: 'second' });
    expect(second.persons).toBe(PERSONS);
    expect(await count(db, 'SELECT count(*) FROM persons')).toBe(2 * PERSONS);
    expect(await count(db, 'SELECT min(id) FROM persons WHERE source_batch = $1', ['second'])).toBe(
      before + 1,
    );
    // Distinct ID numbers: distinct blind indexes (the ciphertexts are all distinct anyway).
    expect(await count(db, 'SELECT count(DISTINCT id_number_bidx) FROM persons')).toBe(2 * PERSONS);
    // The appended people are not a replay of the first run.
    expect(
      await count(
        db,
        "SELECT count(*) FROM persons a JOIN persons b USING (name, birth_date) WHERE a.id <= $1 AND b.source_batch = 'second'",
        [before],
      ),
    ).toBeLessThan(PERSONS / 10);
    const all = await detectDefects(db);
    const fresh = await detectDefects(db, before);
    for (const kind of DEFECT_KINDS) {
      expect(fresh[kind], kind).toEqual(second.defects[kind].personIds);
      expect(all[kind], kind).toEqual([
        ...manifest.defects[kind].personIds,
        ...second.defects[kind].personIds,
      ]);
    }
    // Coincidences with rows outside the run (as if they had been there before) are renamed, keeping
    // an injected pair a pair.
    const lastSecond = await count(db, 'SELECT max(id) FROM persons');
    const [dup] = second.defects.duplicate_person.personIds;
    const targets = [before + 1, before + 2, dup! - 1];
    const copies = await db.query<{ id_number: string; gender: string }>(
      'SELECT id_number, gender FROM persons WHERE id = ANY($1::bigint[]) ORDER BY id',
      [targets],
    );
    const codec = codecFor(db);
    const copied = copies.map((r) => {
      const n = `${clear(db, r.id_number)!.slice(0, 14)}99${r.gender === '1' ? '9' : '8'}X`;
      return [codec.encodeValue('persons', 'id_number', n), codec.blindIndexFor('persons', 'id_number', n)];
    });
    await db.query(
      `INSERT INTO persons (id_number, id_number_bidx, name, gender, birth_date, hukou_division_code, hukou_address,
          hukou_address_bidx, source_dept)
       SELECT c.n, c.k, name, gender, birth_date, hukou_division_code, hukou_address, hukou_address_bidx, 'TEST'
         FROM persons p JOIN unnest($1::bigint[], $2::text[], $3::text[]) AS c(id, n, k) ON c.id = p.id`,
      [[...targets].sort((a, b) => a - b), copied.map(([n]) => n), copied.map(([, k]) => k)],
    );
    const namesBefore = await db.query<{ id: number; name: string }>(
      'SELECT id, name FROM persons WHERE id = ANY($1::bigint[]) ORDER BY id',
      [[...targets, dup]],
    );
    await renameCoincidences(db, before + 1, lastSecond, second, createRng('rename-test'));
    const namesAfter = await db.query<{ id: number; name: string }>(
      'SELECT id, name FROM persons WHERE id = ANY($1::bigint[]) ORDER BY id',
      [[...targets, dup]],
    );
    for (let i = 0; i < namesBefore.length; i++) {
      expect(namesAfter[i]!.name).not.toBe(namesBefore[i]!.name);
      expect(namesAfter[i]!.name.slice(0, -1)).toBe(namesBefore[i]!.name.slice(0, -1));
    }
    expect(namesAfter.at(-1)!.name).toBe(namesAfter.at(-2)!.name); // the pair, renamed together
    expect((await detectDefects(db, before)).duplicate_person.filter((id) => id <= lastSecond)).toEqual(
      second.defects.duplicate_person.personIds,
    );
    await db.query("DELETE FROM persons WHERE source_dept = 'TEST'");
    // Each table still hands out fresh ids.
    await db.query(
      "INSERT INTO vital_events (person_id, type, event_date, division_code, source_dept) VALUES (1, 'birth', '2000-01-01', '110101', 'MPS')",
    );
  });

  it('is deterministic: the same seed on a fresh database gives the same rows; appends avoid used sequences', async () => {
    const other = await testDatabase();
    try {
      const again = await generatePopulation(other, OPTIONS);
      expect(again).toEqual(manifest);
      expect(await contentHash(other)).toBe(firstHash);

      // Then an append where every county already uses high sequence codes: sequence 999 (men) and
      // 998 (women) on 1990-01-01, so the generator looks at the used codes per birth date.
      const counties = await other.query<{ code: string }>(
        "SELECT code FROM divisions WHERE level = 'county' AND valid_to IS NULL",
      );
      const numbers = counties.flatMap(({ code }) => [
        buildIdNumber(code, '1990-01-01', 999),
        buildIdNumber(code, '1990-01-01', 998),
      ]);
      const codec = codecFor(other);
      await other.query(
        `INSERT INTO persons (id_number, id_number_bidx, name, gender, birth_date, hukou_division_code,
            hukou_address, source_dept)
         SELECT n, k, '占位' || i, CASE WHEN i % 2 = 1 THEN '1' ELSE '2' END, '1990-01-01', c, $4, 'TEST'
           FROM unnest($1::text[], $2::text[], $3::text[]) WITH ORDINALITY AS x(n, k, c, i)`,
        [
          numbers.map((n) => codec.encodeValue('persons', 'id_number', n)),
          numbers.map((n) => codec.blindIndexFor('persons', 'id_number', n)),
          numbers.map((n) => n.slice(0, 6)),
          codec.encodeValue('persons', 'hukou_address', '占位'),
        ],
      );
      const before = await count(other, 'SELECT max(id) FROM persons');
      const crowded = await generatePopulation(other, { ...OPTIONS, seed: 'crowded' });
      expect(await count(other, 'SELECT count(*) FROM persons WHERE id > $1', [before])).toBe(PERSONS);
      const found = await detectDefects(other, before);
      for (const kind of DEFECT_KINDS) expect(found[kind], kind).toEqual(crowded.defects[kind].personIds);
      const appended = await other.query<{ id_number: string }>(
        'SELECT id_number FROM persons WHERE id > $1',
        [before],
      );
      expect(
        appended
          .map((r) => clear(other, r.id_number)!)
          .filter((n) => n.slice(6, 14) === '19900101' && n.slice(14, 17) >= '998'),
      ).toEqual([]);
    } finally {
      await other.dispose();
    }
  }, 180_000);
});

describe('normaliseOptions', () => {
  it('rejects bad options with a clear message', () => {
    expect(() => normaliseOptions({ persons: -1, seed: 1 })).toThrow(/persons/);
    expect(() => normaliseOptions({ persons: 1.5, seed: 1 })).toThrow(/persons/);
    expect(() => normaliseOptions({ persons: 1, seed: 1, asOf: '2024-02-30' })).toThrow(/asOf/);
    expect(() =>
      normaliseOptions({
        persons: 1,
        seed: 1,
        defects: { typo: 0.1 } as Partial<Record<DefectKind, number>>,
      }),
    ).toThrow(/unknown defect kind 'typo'/);
    expect(() => normaliseOptions({ persons: 1, seed: 1, defects: { bad_check_digit: 1.5 } })).toThrow(
      /0 to 1/,
    );
    expect(() =>
      normaliseOptions({ persons: 1, seed: 1, defects: { bad_check_digit: 0.6, duplicate_person: 0.6 } }),
    ).toThrow(/sum/);
    expect(normaliseOptions({ persons: 0, seed: 7 }).batch).toBe('gen-7');
  });
});
