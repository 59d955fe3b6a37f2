import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildUscc, orgCodeCheckChar, USCC_ALPHABET, usccCheckChar } from '../src/codes/index.ts';
import { generateLayers, type LayersManifest } from '../src/ingest/generate/layers.ts';
import { scrubDetail } from '../src/quality/detail.ts';
import {
  loadRules,
  parseRuleFile,
  QualityRunError,
  RuleFileError,
  runQualityPass,
} from '../src/quality/index.ts';
import { readIdNumber } from '../src/quality/read-id-number.ts';
import { Statement, scanSql } from '../src/quality/sql-text.ts';
import { type TestDatabase, testDatabase } from '../src/testing/database.ts';
import { insertPerson } from '../src/testing/factories.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const AS_OF = '2025-06-30';

const HEADER = `-- id: population.persons.phone_format
-- registry: population
-- dataset: population.persons
-- dimension: normative
-- severity: warn
-- threshold: 0.5%
-- description: Mobile phone numbers have 11 digits and start with 13-19
-- from: persons p
-- where: p.phone IS NOT NULL
-- division: p.hukou_division_code`;
const PHONE_RULE = `${HEADER}
SELECT p.id AS key, p.hukou_division_code AS division_code,
       'phone number ' || p.phone || ' is not 11 digits starting with 13-19' AS detail
  FROM persons p
 WHERE p.phone IS NOT NULL AND p.phone !~ '^1[3-9][0-9]{9}$';
`;

/**
 * A steward rule the database can run: phones are encrypted at rest (SQL sees ciphertexts, so PHONE_RULE is
 * refused before a run), names are not. Same lines as PHONE_RULE, so problems sit on the same lines.
 */
const NAME_RULE = `${HEADER.replace('population.persons.phone_format', 'population.persons.name_digits')
  .replace(
    '-- description: Mobile phone numbers have 11 digits and start with 13-19',
    '-- description: Names hold no digits',
  )
  .replace('-- where: p.phone IS NOT NULL', '-- where: p.name IS NOT NULL')}
SELECT p.id AS key, p.hukou_division_code AS division_code,
       'name ' || p.name || ' holds digits' AS detail
  FROM persons p
 WHERE p.name ~ '[0-9]';
`;

function problemsOf(work: () => unknown): { file: string; line: number; message: string }[] {
  try {
    work();
  } catch (error) {
    if (error instanceof RuleFileError) return [...error.problems];
    throw error;
  }
  return [];
}

describe('rule files: parsing', () => {
  it('reads metadata, a continued value, a percent threshold and the check with its line', () => {
    const text = PHONE_RULE.replace(
      '-- description: Mobile phone numbers have 11 digits and start with 13-19',
      '-- Free comment: ignored.\n-- description: Mobile phone numbers have 11 digits\n--    and start with 13-19',
    );
    const rule = parseRuleFile('rules/phone.sql', text);
    expect(rule).toMatchObject({
      id: 'population.persons.phone_format',
      registry: 'population',
      dimension: 'normative',
      severity: 'warn',
      threshold: 0.005,
      description: 'Mobile phone numbers have 11 digits and start with 13-19',
      population: { from: 'persons p', where: 'p.phone IS NOT NULL', division: 'p.hukou_division_code' },
      source: 'rules/phone.sql',
    });
    expect(rule.check.startsWith('SELECT p.id AS key')).toBe(true);
    expect(rule.check.endsWith("'^1[3-9][0-9]{9}$'")).toBe(true);
    expect(rule.lines!.checkLine).toBe(13);
    expect(rule.lines!.keys.severity).toBe(5);
  });

  it('names the file and line of every metadata problem', () => {
    const text = PHONE_RULE.replace('-- severity: warn', '-- severty: warn')
      .replace('-- dimension: normative', '-- dimension: beauty')
      .replace('-- threshold: 0.5%', '-- threshold: 150%')
      .replace('-- dataset: population.persons', '-- dataset: population.people');
    const problems = problemsOf(() => parseRuleFile('rules/phone.sql', text));
    expect(problems).toEqual([
      {
        file: 'rules/phone.sql',
        line: 5,
        message: expect.stringContaining("unknown metadata key 'severty'"),
      },
      {
        file: 'rules/phone.sql',
        line: 1,
        message: expect.stringContaining("metadata 'severity' is required"),
      },
      { file: 'rules/phone.sql', line: 3, message: expect.stringContaining("dataset 'population.people'") },
      { file: 'rules/phone.sql', line: 4, message: expect.stringContaining("dimension 'beauty'") },
      { file: 'rules/phone.sql', line: 6, message: expect.stringContaining("threshold '150%'") },
    ]);
    expect(new RuleFileError(problems).message).toMatch(
      /^5 problems in quality rules:\n {2}rules\/phone\.sql:5: /,
    );
  });

  it('refuses a second statement, a non-SELECT, an unknown parameter and an empty body, by line', () => {
    expect(
      problemsOf(() => parseRuleFile('a.sql', `${HEADER}\nSELECT 1 AS key;\nDELETE FROM persons;\n`)),
    ).toEqual([{ file: 'a.sql', line: 11, message: expect.stringContaining('only one statement') }]);
    expect(problemsOf(() => parseRuleFile('b.sql', `${HEADER}\n\nUPDATE persons SET name = ''`))).toEqual([
      { file: 'b.sql', line: 12, message: expect.stringContaining('must be a SELECT') },
    ]);
    expect(
      problemsOf(() =>
        parseRuleFile('c.sql', `${HEADER}\nSELECT id AS key\n  FROM persons WHERE birth_date > :today`),
      ),
    ).toEqual([{ file: 'c.sql', line: 12, message: expect.stringContaining("unknown parameter ':today'") }]);
    expect(problemsOf(() => parseRuleFile('d.sql', HEADER))).toEqual([
      { file: 'd.sql', line: 10, message: expect.stringContaining('no SQL after the metadata') },
    ]);
    // ';' and ':x' inside literals, identifiers and comments are not statements or parameters; casts are not parameters.
    const quoted = parseRuleFile(
      'e.sql',
      `${HEADER}\nSELECT id AS key, NULL AS division_code, 'a;b :c' AS detail -- ; :d\n  FROM persons WHERE birth_date::text <> ':as_of'`,
    );
    expect(quoted.id).toBe('population.persons.phone_format');
  });

  it('refuses a rule id that is already defined, naming both places', () => {
    const dir = mkdtempSync(join(tmpdir(), 'govbase-rules-'));
    try {
      writeFileSync(
        join(dir, 'dup.sql'),
        PHONE_RULE.replace('population.persons.phone_format', 'population.persons.duplicate'),
      );
      const problems = problemsOf(() => loadRules({ rulesDir: dir }));
      expect(problems).toHaveLength(1);
      expect(problems[0]!.file).toMatch(/dup\.sql$/);
      expect(problems[0]!.line).toBe(1);
      expect(problems[0]!.message).toMatch(/already defined by builtin:src\/quality\/rules\/population\.ts/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('finds parameters outside literals and maps database positions back to the rule text', () => {
    const text =
      "SELECT ':as_of', x::date FROM t -- :as_of\nWHERE d = :as_of AND c BETWEEN :division_lo AND :division_hi";
    expect(scanSql(text).map((t) => t.name)).toEqual(['as_of', 'division_lo', 'division_hi']);
    const s = new Statement({ as_of: '2025-01-01', division_lo: '11', division_hi: '119' })
      .raw('EXPLAIN SELECT * FROM (')
      .part('check', text)
      .raw(') q');
    expect(s.text).toContain('WHERE d = $1::date AND c BETWEEN $2::text AND $3::text');
    expect(s.params).toEqual(['2025-01-01', '11', '119']);
    const position = s.text.indexOf('c BETWEEN') + 1;
    expect(s.locate(position)).toEqual({ part: 'check', offset: text.indexOf('c BETWEEN') });
    expect(s.locate(s.text.indexOf('$2') + 1)).toEqual({
      part: 'check',
      offset: text.indexOf(':division_lo'),
    });
    expect(s.locate(1)).toBeNull();
  });

  it('scrubs anything shaped like an ID number or a mobile number from details', () => {
    expect(
      scrubDetail('id 11010519491231002X and 110105194912310021, phone 13812345678; code 91110000'),
    ).toBe('id 110105********002X and 110105********0021, phone 138****5678; code 91110000');
    expect(readIdNumber({ id_number: '11010519491231002X' })).toBe('11010519491231002X');
    expect(readIdNumber({ id_number: null })).toBeNull();
  });
});

/** A pilot-era USCC: the final check is right, the embedded GB 11714 check is not. */
function pilotUscc(valid: string): string {
  const body = valid.slice(8, 16);
  const right = orgCodeCheckChar(body);
  const wrong = USCC_ALPHABET.slice(0, 10).replace(right, '').charAt(0);
  const first17 = valid.slice(0, 16) + wrong;
  return first17 + usccCheckChar(first17);
}

describe('rules against the database', () => {
  let db: TestDatabase;
  let dir: string;
  let layers: LayersManifest;
  const ids: Record<string, number> = {};

  async function entity(
    name: string,
    fields: Partial<{
      uscc: string;
      usccStatus: string;
      rep: number | null;
      repName: string | null;
      status: string;
      division: string;
      point: [number, number] | null;
      parent: number | null;
    }> = {},
  ): Promise<number> {
    const division = fields.division ?? '110105';
    const uscc =
      fields.uscc ?? buildUscc('9', '1', '110105', `Q${String(Object.keys(ids).length).padStart(7, 'A')}`);
    const point = fields.point === undefined ? [116.46, 39.92] : fields.point;
    const [row] = await db.query<{ id: number }>(
      `INSERT INTO entities (uscc, uscc_status, name, registration_dept, category, legal_form, legal_rep_person_id,
          legal_rep_name, established_on, status, division_code, address, point, registration_authority,
          parent_entity_id, parent_relation, source_dept)
       VALUES ($1, $2, $3, '9', '1', 'limited_liability_company', $4, $5, '2015-06-01', $6, $7,
          '北京市朝阳区建国路1号',
          CASE WHEN $8::float8 IS NULL THEN NULL ELSE ST_SetSRID(ST_Point($8, $9), 4490) END,
          '北京市朝阳区市场监督管理局', $10::bigint, CASE WHEN $10::bigint IS NULL THEN NULL ELSE 'branch' END, 'SAMR')
       RETURNING id`,
      [
        uscc,
        fields.usccStatus ?? 'valid',
        name,
        fields.rep === undefined ? ids.alive : fields.rep,
        fields.repName === undefined ? '王小红' : fields.repName,
        fields.status ?? 'active',
        division,
        point?.[0] ?? null,
        point?.[1] ?? null,
        fields.parent ?? null,
      ],
    );
    ids[name] = Number(row!.id);
    return ids[name]!;
  }

  async function holding(
    entityId: number,
    percentage: number,
    extra: { personId?: number; ended?: boolean } = {},
  ) {
    await db.query(
      `INSERT INTO shareholdings (entity_id, shareholder_kind, shareholder_person_id, shareholder_name, percentage,
          acquired_on, ended_on, source_dept)
       VALUES ($1, $2, $3, '股东', $4, '2016-01-01', $5, 'SAMR')`,
      [
        entityId,
        extra.personId === undefined ? 'other' : 'person',
        extra.personId ?? null,
        percentage,
        extra.ended ? '2020-01-01' : null,
      ],
    );
  }

  async function keysOf(runId: number, ruleId: string): Promise<string[]> {
    const found = await db.query<{ record_key: string }>(
      'SELECT record_key FROM quality_failures WHERE run_id = $1 AND rule_id = $2 ORDER BY record_key',
      [runId, ruleId],
    );
    return found.map((r) => r.record_key);
  }

  async function counts(): Promise<Record<string, number>> {
    const [row] = await db.query<Record<string, number>>(
      `SELECT (SELECT count(*)::int FROM quality_runs) AS runs, (SELECT count(*)::int FROM quality_rules) AS rules,
              (SELECT count(*)::int FROM quality_failures) AS failures, (SELECT count(*)::int FROM quality_issues) AS issues`,
    );
    return row!;
  }

  beforeAll(async () => {
    db = await testDatabase();
    dir = mkdtempSync(join(tmpdir(), 'govbase-steward-'));
    ids.alive = (await insertPerson(db, { name: '王小红', birthDate: '1970-01-02' })).id;
    ids.dead = (
      await insertPerson(db, {
        name: '李故',
        birthDate: '1940-02-03',
        status: 'deceased',
        deathDate: '2021-03-01',
      })
    ).id;
    // A phone number typed into the name.
    ids.phoneInName = (
      await insertPerson(db, {
        name: '赵电话+86 13912345678',
        birthDate: '1990-04-05',
        phone: '+86 13912345678',
      })
    ).id;

    const valid = buildUscc('9', '1', '110105', 'MA01ABCD');
    await entity('clean');
    await entity('badCheck', { uscc: valid.slice(0, 17) + (valid.endsWith('0') ? '1' : '0') });
    const pilot = pilotUscc(buildUscc('9', '1', '110105', 'MA02ABCD'));
    await entity('pilot', { uscc: pilot, usccStatus: 'pilot_exception' });
    await entity('pilotMislabelled', { uscc: pilotUscc(buildUscc('9', '1', '110105', 'MA03ABCD')) });
    await entity('repDead', { rep: ids.dead });
    await entity('repUnknown', { rep: 987654321 });
    await entity('repNone', { rep: null, repName: null });
    await entity('repNoneCancelled', { rep: null, repName: null, status: 'cancelled' });
    await entity('pointFar', { point: [121.4737, 31.2304] });
    await entity('noPoint', { point: null });
    await entity('dupName');
    await db.query(`UPDATE entities SET name = '北京同名科技有限公司' WHERE id = $1`, [ids.dupName]);
    await entity('dupName2');
    await db.query(`UPDATE entities SET name = '北京同名科技有限公司' WHERE id = $1`, [ids.dupName2]);
    await entity('unknownDivision', { division: '110199', point: null });
    await entity('orphanBranch', { parent: 987654 });
    await holding(ids.clean!, 60, { personId: ids.alive });
    await holding(ids.clean!, 40);
    await holding(ids.clean!, 30, { ended: true });
    await entity('over100');
    await holding(ids.over100!, 60);
    await holding(ids.over100!, 50);
    await holding(ids.pilot!, 10, { personId: 987654321 });

    // Thematic layers over Beijing, with the generator's invalid (bowtie) features; then a feature valid
    // from the future, a stale feature of a daily layer (and one as old of a yearly layer), a stray layer id.
    layers = await generateLayers(db, { seed: 3, perLayer: 5, prefixes: ['11'] });
    const [future, daily, yearly] = await db.query<{ id: number }>(
      `(SELECT id FROM features WHERE layer_id = 'urban-layout' ORDER BY id LIMIT 1)
       UNION ALL (SELECT id FROM features WHERE layer_id = 'rs-footprints' ORDER BY id LIMIT 1)
       UNION ALL (SELECT f.id FROM features f JOIN layers l ON l.id = f.layer_id
                   WHERE l.update_frequency = 'yearly' ORDER BY f.id LIMIT 1)`,
    );
    ids.featureFuture = Number(future!.id);
    ids.featureDaily = Number(daily!.id);
    ids.featureYearly = Number(yearly!.id);
    await db.query(`UPDATE features SET valid_from = '2030-01-01' WHERE id = $1`, [ids.featureFuture]);
    await db.query(`UPDATE features SET updated_at = '2025-06-20' WHERE id = ANY($1::bigint[])`, [
      [ids.featureDaily, ids.featureYearly],
    ]);
    const [stray] = await db.query<{ id: number }>(
      `INSERT INTO features (layer_id, geom, division_code, source_dept)
       VALUES ('no-such-layer', ST_SetSRID(ST_Point(116.46, 39.92), 4490), '110105', 'MNR') RETURNING id`,
    );
    ids.featureStray = Number(stray!.id);

    // Spatial: a self-intersecting boundary, a town without its county, a stale record; governance: a stray grant.
    await db.query(
      `UPDATE divisions SET boundary = ST_Multi(ST_GeomFromText('POLYGON((109 19, 110 20, 110 19, 109 20, 109 19))', 4490))
        WHERE code = '460000'`,
    );
    await db.query(
      `INSERT INTO divisions (code, name, level, parent_code, code_system, prefix, source_dept)
       VALUES ('110198001', '无主街道', 'town', '110198', 'nbs_stat', '110198001', 'MCA')`,
    );
    await db.query(`UPDATE divisions SET updated_at = '2021-01-01' WHERE code = '110101'`);
    await db.query(
      `INSERT INTO grants (department_code, dataset, max_level, granted_by) VALUES ('MPS', 'population.unknown', 2, 'test')`,
    );
  });
  afterAll(async () => {
    await db?.dispose();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('legal-entity, spatial, thematic-layer and governance rules find exactly the planted defects', async () => {
    const run = await runQualityPass(db, { asOf: AS_OF, triggeredBy: 'test' });
    const key = (...names: string[]) => names.map((n) => String(ids[n])).sort();
    expect(await keysOf(run.runId, 'legal_entity.entities.uscc_valid')).toEqual(key('badCheck'));
    expect(await keysOf(run.runId, 'legal_entity.entities.uscc_org_code')).toEqual(
      key('pilot', 'pilotMislabelled'),
    );
    expect(await keysOf(run.runId, 'legal_entity.entities.uscc_status')).toEqual(
      key('badCheck', 'pilotMislabelled'),
    );
    expect(await keysOf(run.runId, 'legal_entity.entities.legal_rep_alive')).toEqual(
      key('repDead', 'repUnknown', 'repNone'),
    );
    expect(await keysOf(run.runId, 'legal_entity.entities.point_in_division')).toEqual(key('pointFar'));
    expect(await keysOf(run.runId, 'legal_entity.shareholdings.total')).toEqual(key('over100'));
    expect(await keysOf(run.runId, 'legal_entity.entities.duplicate')).toEqual(key('dupName2'));
    expect(await keysOf(run.runId, 'legal_entity.entities.division_known')).toEqual(key('unknownDivision'));
    expect(await keysOf(run.runId, 'legal_entity.entities.parent_exists')).toEqual(key('orphanBranch'));
    expect(await keysOf(run.runId, 'legal_entity.shareholdings.references')).toHaveLength(1);
    expect(await keysOf(run.runId, 'spatial.divisions.boundary_valid')).toEqual(['460000']);
    expect(await keysOf(run.runId, 'spatial.features.geometry_valid')).toEqual(
      layers.invalid.map((f) => String(f.id)).sort(),
    );
    expect(await keysOf(run.runId, 'spatial.features.dates_plausible')).toEqual(key('featureFuture'));
    expect(await keysOf(run.runId, 'spatial.features.timeliness')).toEqual(key('featureDaily'));
    expect(await keysOf(run.runId, 'spatial.features.layer_known')).toEqual(key('featureStray'));
    expect(await keysOf(run.runId, 'spatial.features.in_division')).toEqual([]);
    expect(await keysOf(run.runId, 'spatial.place_names.in_division')).toEqual([]);
    expect(await keysOf(run.runId, 'spatial.divisions.hierarchy')).toEqual(['110198001']);
    expect(await keysOf(run.runId, 'spatial.divisions.timeliness')).toEqual(['110101']);
    expect(await keysOf(run.runId, 'governance.grants.dataset_known')).toHaveLength(1);

    const details = new Map(
      (
        await db.query<{ rule_id: string; record_key: string; detail: string }>(
          'SELECT rule_id, record_key, detail FROM quality_failures WHERE run_id = $1',
          [run.runId],
        )
      ).map((d) => [`${d.rule_id} ${d.record_key}`, d.detail]),
    );
    expect(details.get(`legal_entity.entities.uscc_org_code ${ids.pilot}`)).toMatch(
      /pilot-era code, legally valid/,
    );
    expect(details.get(`legal_entity.entities.legal_rep_alive ${ids.repDead}`)).toBe(
      `legal representative (person ${ids.dead}) is deceased since 2021`,
    );
    expect(details.get(`legal_entity.shareholdings.total ${ids.over100}`)).toBe(
      'current shareholdings sum to 110 % (2 holders)',
    );
    expect(details.get('spatial.divisions.boundary_valid 460000')).toMatch(
      /^invalid boundary: Self-intersection/,
    );
    expect(details.get(`spatial.features.geometry_valid ${layers.invalid[0]!.id}`)).toBe(
      `invalid geometry in layer farmland: ${layers.invalid[0]!.reason}`,
    );
    expect(details.get(`spatial.features.timeliness ${ids.featureDaily}`)).toBe(
      'last updated 2025-06-20; layer rs-footprints is updated daily',
    );
    expect(details.get(`legal_entity.entities.point_in_division ${ids.pointFar}`)).toMatch(
      /^registered address point lies [\d.]+ km outside 110/,
    );
    // The pilot exception is a warning: its rule is warn, and no error rule fails for it.
    const orgCode = run.rules.find((r) => r.ruleId === 'legal_entity.entities.uscc_org_code')!;
    expect(orgCode.severity).toBe('warn');
    expect(await keysOf(run.runId, 'legal_entity.entities.uscc_valid')).not.toContain(String(ids.pilot));
  });

  it('runs a steward rule file and records its source and version', async () => {
    const sub = join(dir, 'good');
    mkdirSync(sub);
    writeFileSync(join(sub, 'names.sql'), NAME_RULE);
    const run = await runQualityPass(db, {
      rulesDir: sub,
      rules: ['population.persons.name_digits'],
      asOf: AS_OF,
    });
    expect(run.rules).toHaveLength(1);
    expect(run.rules[0]).toMatchObject({ checked: 3, failed: 1, kind: 'sql', severity: 'warn' });
    expect(run.rules[0]!.source).toMatch(/names\.sql$/);
    expect(await keysOf(run.runId, 'population.persons.name_digits')).toEqual([String(ids.phoneInName)]);
    const [failure] = await db.query<{ detail: string }>(
      'SELECT detail FROM quality_failures WHERE run_id = $1',
      [run.runId],
    );
    // The file put a clear phone number in its detail; the runner's scrub did not let it through.
    expect(failure!.detail).toBe('name 赵电话+86 139****5678 holds digits');
    const [rule] = await db.query<{ source: string; version: string }>(
      `SELECT source, version FROM quality_rules WHERE id = 'population.persons.name_digits'`,
    );
    expect(rule!.version).toMatch(/^[0-9a-f]{12}$/);
  });

  it('a rule reading an encrypted column is refused before a run: SQL would see ciphertexts', async () => {
    const sub = join(dir, 'encrypted');
    mkdirSync(sub);
    writeFileSync(join(sub, 'phone.sql'), PHONE_RULE);
    const before = await counts();
    const error = await runQualityPass(db, { rulesDir: sub, asOf: AS_OF }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RuleFileError);
    // The detail and the WHERE read p.phone; `-- where: p.phone IS NOT NULL` (presence) is allowed.
    expect(
      (error as RuleFileError).problems.map((p) => [p.file.split('/').pop(), p.line, p.message]),
    ).toEqual([
      ['phone.sql', 12, expect.stringMatching(/^persons\.phone is encrypted at rest.*phone_bidx/)],
      ['phone.sql', 14, expect.stringMatching(/^persons\.phone is encrypted at rest/)],
    ]);
    expect(await counts()).toEqual(before);
  });

  it('a bad rule file stops everything before anything is recorded, naming the file and line', async () => {
    const sub = join(dir, 'bad');
    mkdirSync(sub);
    writeFileSync(join(sub, 'a-good.sql'), NAME_RULE);
    writeFileSync(
      join(sub, 'b-bad-column.sql'),
      NAME_RULE.replace('population.persons.name_digits', 'population.persons.phone_format_2').replace(
        " WHERE p.name ~ '[0-9]';",
        " WHERE p.name IS NOT NULL\n   AND p.hukou_divison_code <> '';",
      ),
    );
    writeFileSync(
      join(sub, 'c-bad-from.sql'),
      NAME_RULE.replace('population.persons.name_digits', 'population.persons.phone_format_3').replace(
        '-- from: persons p',
        '-- from: peoples p',
      ),
    );
    writeFileSync(
      join(sub, 'd-no-detail.sql'),
      `${HEADER.replace('population.persons.phone_format', 'population.persons.phone_format_4')}\nSELECT p.id AS key FROM persons p`,
    );
    const before = await counts();
    let error: unknown;
    try {
      await runQualityPass(db, { rulesDir: sub, asOf: AS_OF });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(RuleFileError);
    const problems = (error as RuleFileError).problems.map((p) => ({ ...p, file: p.file.split('/').pop() }));
    expect(problems).toEqual([
      { file: 'b-bad-column.sql', line: 15, message: expect.stringContaining('hukou_divison_code') },
      {
        file: 'c-bad-from.sql',
        line: 8,
        message: expect.stringMatching(/^in 'from': relation "peoples" does not exist/),
      },
      {
        file: 'd-no-detail.sql',
        line: 11,
        message: expect.stringContaining('must return the columns key, division_code and detail'),
      },
    ]);
    expect((error as Error).message).toMatch(
      /b-bad-column\.sql:15: column p\.hukou_divison_code does not exist/,
    );
    expect(await counts()).toEqual(before);
  });

  it('a rule that fails while running is recorded as an error, its partial failures removed', async () => {
    const sub = join(dir, 'runtime');
    mkdirSync(sub);
    writeFileSync(
      join(sub, 'divide.sql'),
      `${HEADER.replace('population.persons.phone_format', 'population.persons.divide')}\nSELECT p.id AS key, NULL AS division_code, (1 / (p.id - p.id))::text AS detail\n  FROM persons p`,
    );
    const before = await counts();
    const error = await runQualityPass(db, {
      rulesDir: sub,
      rules: ['population.persons.divide', 'population.persons.required_fields'],
      asOf: AS_OF,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(QualityRunError);
    expect((error as Error).message).toMatch(
      /population\.persons\.divide \(.*divide\.sql:\d+\) failed: division by zero/,
    );
    const [run] = await db.query<{ status: string; error: string; n: number }>(
      `SELECT status, error, (SELECT count(*)::int FROM quality_failures f WHERE f.run_id = r.id) AS n
         FROM quality_runs r ORDER BY id DESC LIMIT 1`,
    );
    expect(run).toMatchObject({ status: 'error', n: 0 });
    const after = await counts();
    expect(after.issues).toBe(before.issues);
  });

  it('the CLI exits 2 on a bad rule file without opening the database', () => {
    const sub = join(dir, 'cli');
    mkdirSync(sub);
    writeFileSync(join(sub, 'typo.sql'), PHONE_RULE.replace('-- severity: warn', '-- severity: eror'));
    const result = spawnSync(
      process.execPath,
      ['--import', 'tsx', 'scripts/quality.ts', '--rules-dir', sub],
      {
        cwd: ROOT,
        encoding: 'utf8',
        env: {
          ...process.env,
          DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none',
          GOVBASE_DATA_DIR: '/nonexistent',
        },
        timeout: 60_000,
      },
    );
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/typo\.sql:5: severity 'eror' is not one of error, warn/);
  });
});
