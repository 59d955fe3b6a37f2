import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT, main } from '../scripts/quality.ts';
import { codecFor } from '../src/crypto/at-rest.ts';
import {
  DEFECT_KINDS,
  type DefectKind,
  type GenerationManifest,
  generatePopulation,
} from '../src/ingest/generate/population.ts';
import { type RunResult, runQualityPass } from '../src/quality/index.ts';
import { writeReports } from '../src/quality/report/index.ts';
import { type TestDatabase, testDatabase } from '../src/testing/database.ts';

/**
 * The answer key: the generator injects each defect kind into known persons (the manifest); the rule for
 * that kind must find exactly those persons — every one of them (recall 100 %) and no clean record
 * (no false positive) — on PGlite and on the server alike.
 */
const RULE_FOR: Record<DefectKind, string> = {
  bad_check_digit: 'population.persons.id_check_digit',
  birth_date_mismatch: 'population.persons.id_birth_gender',
  point_outside_division: 'population.persons.residence_point_in_division',
  missing_required_field: 'population.persons.required_fields',
  duplicate_person: 'population.persons.duplicate',
};

const PERSONS = 4000;
const AS_OF = '2025-06-30';

let db: TestDatabase;
let manifest: GenerationManifest;
let run: RunResult;
let reportsDir: string;

async function failingKeys(runId: number, ruleId: string): Promise<number[]> {
  const found = await db.query<{ record_key: string }>(
    'SELECT record_key FROM quality_failures WHERE run_id = $1 AND rule_id = $2',
    [runId, ruleId],
  );
  return found.map((r) => Number(r.record_key)).sort((a, b) => a - b);
}

beforeAll(async () => {
  db = await testDatabase();
  manifest = await generatePopulation(db, {
    persons: PERSONS,
    seed: 'quality-test',
    asOf: AS_OF,
    defects: Object.fromEntries(DEFECT_KINDS.map((k) => [k, 0.01])),
  });
  run = await runQualityPass(db, { asOf: AS_OF, triggeredBy: 'test' });
  reportsDir = mkdtempSync(join(tmpdir(), 'govbase-quality-'));
});
afterAll(async () => {
  await db?.dispose();
  if (reportsDir) rmSync(reportsDir, { recursive: true, force: true });
});

describe('the passes against the generator manifest', () => {
  it('the generator injected every defect kind', () => {
    for (const kind of DEFECT_KINDS)
      expect(manifest.defects[kind].personIds.length, kind).toBe(PERSONS / 100);
  });

  it.each(DEFECT_KINDS)(
    'finds exactly the persons with %s (recall 100 %%, no false positive)',
    async (kind) => {
      const expected = manifest.defects[kind].personIds;
      const found = await failingKeys(run.runId, RULE_FOR[kind]);
      const missed = expected.filter((id) => !found.includes(id));
      const falsePositives = found.filter((id) => !expected.includes(id));
      expect({ missed, falsePositives }).toEqual({ missed: [], falsePositives: [] });
      const result = run.rules.find((r) => r.ruleId === RULE_FOR[kind])!;
      expect(result.failed).toBe(expected.length);
      expect(result.checked).toBe(PERSONS);
    },
  );

  it('finds nothing with the other population rules on the generated data', () => {
    const others = run.rules.filter(
      (r) => r.registry === 'population' && !Object.values(RULE_FOR).includes(r.ruleId),
    );
    expect(others.length).toBeGreaterThanOrEqual(7);
    for (const r of others)
      expect({ rule: r.ruleId, failed: r.failed }).toEqual({ rule: r.ruleId, failed: 0 });
  });

  it('writes details with values masked per the field catalogue', async () => {
    const details = await db.query<{ rule_id: string; detail: string }>(
      'SELECT rule_id, detail FROM quality_failures WHERE run_id = $1',
      [run.runId],
    );
    const checkDigit = details.find((d) => d.rule_id === RULE_FOR.bad_check_digit)!.detail;
    expect(checkDigit).toMatch(/^check digit is [0-9X], expected [0-9X] for \d{6}\*{8}\d{3}[0-9X]$/);
    expect(details.find((d) => d.rule_id === RULE_FOR.birth_date_mismatch)!.detail).toMatch(
      /^birth date \(\d{4}\) is \d+ days (after|before) the ID number's \(\d{4}\) — \d{6}\*{8}/,
    );
    expect(details.find((d) => d.rule_id === RULE_FOR.missing_required_field)!.detail).toBe(
      'missing: hukou_address',
    );
    expect(details.find((d) => d.rule_id === RULE_FOR.point_outside_division)!.detail).toMatch(
      /^residence point lies [\d.]+ km outside \d{6}/,
    );
    const clear = new Set(Object.values(manifest.defects).flatMap((d) => d.idNumbers));
    for (const { detail } of details) {
      expect(detail).not.toMatch(/\d{17}[\dX]/);
      for (const idNumber of clear) expect(detail.includes(idNumber)).toBe(false);
    }
  });
});

describe('the recorded run', () => {
  it('records start, end, rule versions and counts', async () => {
    const [row] = await db.query<Record<string, unknown>>(
      `SELECT status, started_at <= finished_at AS ordered, rules, rows_checked, failures, exceeded, as_of, triggered_by
         FROM quality_runs WHERE id = $1`,
      [run.runId],
    );
    expect(row).toMatchObject({
      status: 'failed',
      ordered: true,
      rules: run.rules.length,
      rows_checked: run.rowsChecked,
      failures: run.failures,
      exceeded: run.exceeded.length,
      as_of: AS_OF,
      triggered_by: 'test',
    });
    const perRule = await db.query<{ rule_id: string; version: string; checked: number; failed: number }>(
      'SELECT rule_id, version, checked, failed FROM quality_run_rules WHERE run_id = $1',
      [run.runId],
    );
    expect(perRule).toHaveLength(run.rules.length);
    for (const r of perRule) expect(r.version).toMatch(/^[0-9a-f]{12}$/);
    const [{ n }] = (await db.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM quality_failures WHERE run_id = $1',
      [run.runId],
    )) as [{ n: number }];
    expect(n).toBe(run.failures);
  });

  it('opens one issue per failing record and keeps it across runs', async () => {
    const [{ n }] = (await db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM quality_issues WHERE status = 'open' AND last_seen_run = $1`,
      [run.runId],
    )) as [{ n: number }];
    expect(n).toBe(run.failures);

    // A fix in the registry: the next run resolves the issue and logs it as the system's doing.
    const fixed = manifest.defects.missing_required_field.personIds[0]!;
    const address = codecFor(db).encodeRow('persons', { hukou_address: '北京市东城区东华门街道1号' });
    await db.query('UPDATE persons SET hukou_address = $2, hukou_address_bidx = $3 WHERE id = $1', [
      fixed,
      address.hukou_address,
      address.hukou_address_bidx,
    ]);
    const second = await runQualityPass(db, {
      asOf: AS_OF,
      rules: [RULE_FOR.missing_required_field],
      triggeredBy: 'test',
    });
    expect(second.rules[0]!.failed).toBe(PERSONS / 100 - 1);
    const [issue] = await db.query<{ id: number; status: string; last_seen_run: number }>(
      `SELECT id, status, last_seen_run FROM quality_issues WHERE rule_id = $1 AND record_key = $2`,
      [RULE_FOR.missing_required_field, String(fixed)],
    );
    expect(issue).toMatchObject({ status: 'resolved', last_seen_run: run.runId });
    const events = await db.query<{ status: string; principal: string }>(
      'SELECT status, principal FROM quality_issue_events WHERE issue_id = $1',
      [issue!.id],
    );
    expect(events).toEqual([{ status: 'resolved', principal: 'system:quality' }]);
    const [stillOpen] = await db.query<{ status: string; last_seen_run: number }>(
      `SELECT status, last_seen_run FROM quality_issues WHERE rule_id = $1 AND record_key = $2`,
      [RULE_FOR.missing_required_field, String(manifest.defects.missing_required_field.personIds[1])],
    );
    expect(stillOpen).toEqual({ status: 'open', last_seen_run: second.runId });
  });

  it('limits a run to a division subtree', async () => {
    const [top] = await db.query<{ code: string; n: number }>(
      `SELECT left(hukou_division_code, 2) || '0000' AS code, count(*)::int AS n FROM persons
        WHERE id = ANY($1::bigint[]) GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 1`,
      [manifest.defects.bad_check_digit.personIds],
    );
    const inProvince = await db.query<{ id: number }>(
      `SELECT id FROM persons WHERE id = ANY($1::bigint[]) AND hukou_division_code LIKE $2`,
      [manifest.defects.bad_check_digit.personIds, `${top!.code.slice(0, 2)}%`],
    );
    const [{ n: persons }] = (await db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM persons WHERE hukou_division_code LIKE $1`,
      [`${top!.code.slice(0, 2)}%`],
    )) as [{ n: number }];
    const limited = await runQualityPass(db, {
      asOf: AS_OF,
      division: top!.code,
      rules: [RULE_FOR.bad_check_digit, RULE_FOR.duplicate_person],
      triggeredBy: 'test',
    });
    const checkDigit = limited.rules.find((r) => r.ruleId === RULE_FOR.bad_check_digit)!;
    expect(checkDigit).toMatchObject({ checked: persons, failed: inProvince.length });
    expect(await failingKeys(limited.runId, RULE_FOR.bad_check_digit)).toEqual(
      inProvince.map((p) => Number(p.id)).sort((a, b) => a - b),
    );
    const [runRow] = await db.query<{ division_filter: string }>(
      'SELECT division_filter FROM quality_runs WHERE id = $1',
      [limited.runId],
    );
    expect(runRow!.division_filter).toBe(top!.code);
  });
});

describe('reports', () => {
  it('writes JSON and a self-contained HTML report with scores, charts and masked samples', async () => {
    const { json, html, data } = await writeReports(db, run.runId, reportsDir);
    expect(json).toBe(join(reportsDir, `quality-${run.runId}.json`));
    const parsed = JSON.parse(readFileSync(json, 'utf8'));
    expect(parsed.run.id).toBe(run.runId);
    const population = parsed.scores.filter((s: { registry: string }) => s.registry === 'population');
    expect(population.map((s: { dimension: string }) => s.dimension).sort()).toEqual(
      ['accuracy', 'completeness', 'consistency', 'normative', 'uniqueness'].sort(),
    );
    const uniqueness = population.find((s: { dimension: string }) => s.dimension === 'uniqueness');
    expect(uniqueness).toMatchObject({ checked: PERSONS, passed: PERSONS - PERSONS / 100 });
    expect(data.byProvince.reduce((n, p) => n + p.failures, 0)).toBeGreaterThan(0);
    expect(data.trend.at(-1)!.runId).toBe(run.runId);

    const sample = data.rules.find((r) => r.id === RULE_FOR.bad_check_digit)!.samples[0]!;
    expect(sample.record.name).toMatch(/^\S\*+$/);
    expect(sample.record.idNumber).toMatch(/^\d{6}\*{8}\d{3}[\dX]$/);
    expect(sample.record.birthDate).toMatch(/^\d{4}$/);

    const page = readFileSync(html, 'utf8');
    expect(page.startsWith('<!doctype html>')).toBe(true);
    expect(page).toContain('Scores by registry and dimension');
    expect(page).toContain('<svg');
    expect(page).toContain(RULE_FOR.duplicate_person);
    expect(page).toContain(sample.record.idNumber);
    // Opens from a file: no script, no stylesheet or image fetched from anywhere.
    expect(page).not.toMatch(/<script|<link|src=|href=|url\(/i);
    // No clear ID number, not one of the persons, and nothing shaped like one.
    expect(page).not.toMatch(/\d{17}[\dX]/);
    const all = await db.query<{ id_number: string }>('SELECT id_number FROM persons');
    for (const { id_number } of all) expect(page.includes(codecFor(db).decodeValue(id_number)!)).toBe(false);
    expect(readFileSync(json, 'utf8')).not.toMatch(/(?<![\d.])\d{17}[\dX]/);
  });
});

describe('npm run quality', () => {
  const quiet = { log: () => undefined, error: () => undefined, progress: false };

  it('exits non-zero when a rule exceeds its threshold, zero when none does', async () => {
    const env = { ...process.env };
    const over = await main(
      ['--as-of', AS_OF, '--reports', reportsDir, '--rule', RULE_FOR.duplicate_person],
      {
        db,
        env,
        ...quiet,
      },
    );
    expect(over).toBe(EXIT.thresholdExceeded);
    const lines: string[] = [];
    const clean = await main(
      [
        '--as-of',
        AS_OF,
        '--reports',
        reportsDir,
        '--registry',
        'spatial',
        '--rule',
        'spatial.divisions.hierarchy',
      ],
      { db, env, ...quiet, log: (l) => lines.push(l) },
    );
    expect(clean).toBe(EXIT.ok);
    expect(lines.join('\n')).toMatch(/run \d+: passed/);
    expect(lines.join('\n')).toMatch(/quality-\d+\.html/);
  });

  it('exits 2 on an unknown rule or division and records nothing', async () => {
    const [{ n: before }] = (await db.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM quality_runs',
    )) as [{ n: number }];
    const errors: string[] = [];
    expect(
      await main(['--rule', 'population.persons.nope'], { db, ...quiet, error: (l) => errors.push(l) }),
    ).toBe(EXIT.badRules);
    expect(await main(['--division', '999999'], { db, ...quiet, error: (l) => errors.push(l) })).toBe(
      EXIT.badRules,
    );
    expect(errors.join('\n')).toMatch(/unknown rule 'population\.persons\.nope'/);
    expect(errors.join('\n')).toMatch(/division '999999'/);
    const [{ n: after }] = (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM quality_runs')) as [
      { n: number },
    ];
    expect(after).toBe(before);
  });

  it('a warn-severity rule over its threshold is reported but does not fail the run', async () => {
    // Unknown nationality codes on 2 % of persons: the code-list rule is warn with threshold 1 %.
    await db.query(
      `UPDATE persons SET nationality = 'XXX' WHERE id IN (SELECT id FROM persons ORDER BY id DESC LIMIT $1)`,
      [PERSONS / 50],
    );
    const lines: string[] = [];
    const code = await main(
      ['--as-of', AS_OF, '--reports', reportsDir, '--rule', 'population.persons.code_lists'],
      {
        db,
        ...quiet,
        log: (l) => lines.push(l),
      },
    );
    expect(code).toBe(EXIT.ok);
    expect(lines.join('\n')).toMatch(/warn population\.persons\.code_lists: 80 of 4,000/);
  });
});
