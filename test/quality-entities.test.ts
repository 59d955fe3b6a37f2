import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ENTITY_DEFECT_KINDS,
  type EntityDefectKind,
  type EntityManifest,
  generateEntities,
} from '../src/ingest/generate/entities.ts';
import { type RunResult, runQualityPass } from '../src/quality/index.ts';
import { type TestDatabase, testDatabase } from '../src/testing/database.ts';
import { insertPerson } from '../src/testing/factories.ts';

/**
 * The entity generator's manifest as the answer key of the legal-entity rules: each injected defect kind is
 * found exactly (recall 100 %, no false positive), and the clean entities pass every other rule — pilot-era
 * codes are only warned, and exactly those. On PGlite and on the server alike.
 */
const RULE_FOR: Record<EntityDefectKind, string> = {
  bad_uscc_check: 'legal_entity.entities.uscc_valid',
  legal_rep_missing: 'legal_entity.entities.legal_rep_alive',
  legal_rep_deceased: 'legal_entity.entities.legal_rep_alive',
  point_outside_division: 'legal_entity.entities.point_in_division',
  shareholdings_over_100: 'legal_entity.shareholdings.total',
};

const AS_OF = '2025-06-30';
const ENTITIES = 2000;

let db: TestDatabase;
let manifest: EntityManifest;
let run: RunResult;

async function failing(ruleId: string): Promise<string[]> {
  const found = await db.query<{ uscc: string }>(
    `SELECT e.uscc FROM quality_failures f JOIN entities e ON e.id = f.record_key::bigint
      WHERE f.run_id = $1 AND f.rule_id = $2 ORDER BY e.uscc`,
    [run.runId, ruleId],
  );
  return found.map((r) => r.uscc);
}

beforeAll(async () => {
  db = await testDatabase();
  // Few persons in four counties for many entities: each county is dense with entities (hundreds, so names
  // drawn from small sets collide unless the generator keeps them apart), persons are reused as
  // representatives and shareholders, and a few have died.
  let n = 0;
  for (const county of ['440305', '440106', '110105', '110108']) {
    for (let i = 0; i < 40; i++, n++) {
      await insertPerson(db, {
        name: `测试${n}`,
        county,
        birthDate: `19${55 + (n % 45)}-0${1 + (n % 9)}-1${n % 10}`,
        gender: n % 2 ? '1' : '2',
        sequence: 100 + 2 * n,
        ...(i < 3 ? { status: 'deceased' as const, deathDate: '2022-03-01' } : {}),
      });
    }
  }
  manifest = await generateEntities(db, {
    entities: ENTITIES,
    seed: 'quality-entities',
    asOf: AS_OF,
    defects: Object.fromEntries(ENTITY_DEFECT_KINDS.map((k) => [k, 0.01])),
  });
  run = await runQualityPass(db, { registry: 'legal-entity', asOf: AS_OF, triggeredBy: 'test' });
}, 300_000);
afterAll(() => db?.dispose());

describe('legal-entity rules against the entity generator manifest', () => {
  it('the generator injected every kind, some on revoked or moved-out entities, none on cancelled ones', async () => {
    expect(manifest.notes).toEqual([]);
    for (const kind of ENTITY_DEFECT_KINDS) expect(manifest.defects[kind].length, kind).toBeGreaterThan(5);
    const statuses = await db.query<{ status: string; n: number }>(
      `SELECT status, count(*)::int AS n FROM entities WHERE uscc = ANY($1::text[]) GROUP BY status`,
      [[...manifest.defects.legal_rep_missing, ...manifest.defects.legal_rep_deceased]],
    );
    expect(statuses.map((s) => s.status)).not.toContain('cancelled');
    // Cancelled entities exist and carry no representative defect; the rule's population leaves them out.
    const [cancelled] = await db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM entities WHERE status = 'cancelled'`,
    );
    expect(cancelled!.n).toBeGreaterThan(50);
  });

  it.each(ENTITY_DEFECT_KINDS)(
    'finds exactly the entities with %s: every one, and no clean entity',
    async (kind) => {
      const rule = RULE_FOR[kind];
      // Both representative kinds are one rule: its failures are the union of the two lists.
      const expected = ENTITY_DEFECT_KINDS.filter((k) => RULE_FOR[k] === rule)
        .flatMap((k) => manifest.defects[k])
        .sort();
      const found = await failing(rule);
      const missed = manifest.defects[kind].filter((u) => !found.includes(u));
      const falsePositives = found.filter((u) => !expected.includes(u));
      expect({ missed, falsePositives }).toEqual({ missed: [], falsePositives: [] });
      expect(run.rules.find((r) => r.ruleId === rule)!.failed).toBe(expected.length);
    },
  );

  it('flags nothing else on clean entities: pilot-era codes are warned, and only they', async () => {
    expect(await failing('legal_entity.entities.uscc_org_code')).toEqual(
      [...manifest.pilotExceptions].sort(),
    );
    const keyed = new Set([...Object.values(RULE_FOR), 'legal_entity.entities.uscc_org_code']);
    const others = run.rules.filter((r) => !keyed.has(r.ruleId) && r.failed > 0);
    expect(others.map((r) => `${r.ruleId}: ${r.failed}`)).toEqual([]);
    const [entities] = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM entities');
    expect(run.rules.find((r) => r.ruleId === 'legal_entity.entities.uscc_valid')!.checked).toBe(entities!.n);
  });
});
