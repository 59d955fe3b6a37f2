import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseUscc } from '../src/codes/index.ts';
import {
  ENTITY_DEFECT_KINDS,
  type EntityManifest,
  generateEntities,
  normaliseEntityOptions,
} from '../src/ingest/generate/entities.ts';
import { controlChains } from '../src/registries/legal-entity/ownership.ts';
import { type TestDatabase, testDatabase } from '../src/testing/database.ts';
import { insertPerson } from '../src/testing/factories.ts';

let db: TestDatabase;
let manifest: EntityManifest;

beforeAll(async () => {
  db = await testDatabase();
  // Persons in three counties (two provinces); a few have died.
  let n = 0;
  for (const county of ['440305', '440106', '110105']) {
    for (let i = 0; i < 30; i++, n++) {
      const birthDate = `19${60 + (n % 40)}-0${1 + (n % 9)}-1${n % 10}`;
      await insertPerson(db, {
        name: `测试${n}`,
        county,
        birthDate,
        gender: n % 2 ? '1' : '2',
        sequence: 100 + 2 * n,
        ...(i < 2 ? { status: 'deceased' as const, deathDate: '2023-01-01' } : {}),
      });
    }
  }
  const rates = Object.fromEntries(ENTITY_DEFECT_KINDS.map((k) => [k, 0.01]));
  manifest = await generateEntities(db, {
    entities: 600,
    seed: 'test-seed',
    asOf: '2025-06-30',
    defects: rates,
  });
});
afterAll(() => db?.dispose());

describe('generate entities', () => {
  it('registers the requested number of entities, with branches, holdings, qualifications and shops', async () => {
    expect(manifest.entities).toBe(600);
    expect(manifest.branches).toBe(30);
    const [counts] = await db.query<Record<string, number>>(
      `SELECT (SELECT count(*)::int FROM entities) AS entities,
              (SELECT count(*)::int FROM entities WHERE parent_relation = 'branch') AS branches,
              (SELECT count(*)::int FROM shareholdings) AS holdings,
              (SELECT count(*)::int FROM qualifications) AS qualifications,
              (SELECT count(*)::int FROM online_shops) AS shops,
              (SELECT count(*)::int FROM change_log WHERE action = 'registered' AND record_type = 'entity') AS registered,
              (SELECT count(DISTINCT division_code)::int FROM entities) AS divisions`,
    );
    expect(counts).toMatchObject({
      entities: 600,
      branches: 30,
      holdings: manifest.shareholdings.person + manifest.shareholdings.entity + manifest.shareholdings.other,
      qualifications: manifest.qualifications,
      shops: manifest.onlineShops,
      registered: 600,
      divisions: 3,
    });
    expect(manifest.shareholdings.entity).toBeGreaterThan(20);
    expect(manifest.qualifications).toBeGreaterThan(0);
    expect(manifest.onlineShops).toBeGreaterThan(0);
  });

  it('gives every clean entity a valid code, and flags pilot codes', async () => {
    const rows = await db.query<{ uscc: string; uscc_status: string; division_code: string }>(
      'SELECT uscc, uscc_status, division_code FROM entities',
    );
    const bad = new Set(manifest.defects.bad_uscc_check);
    expect(bad.size).toBe(6);
    for (const row of rows) {
      const parsed = parseUscc(row.uscc);
      if (bad.has(row.uscc)) {
        expect(parsed.ok).toBe(false);
        expect(row.uscc_status).toBe('invalid');
      } else {
        expect(parsed.ok, row.uscc).toBe(true);
        expect(row.uscc_status).toBe(parsed.ok && parsed.value.pilotException ? 'pilot_exception' : 'valid');
        expect(row.uscc.slice(2, 8)).toBe(row.division_code);
      }
    }
    for (const code of manifest.pilotExceptions) {
      const parsed = parseUscc(code);
      expect(parsed.ok && parsed.value.pilotException).toBe(true);
    }
  });

  it('draws legal representatives from the persons, and lists the injected defects exactly', async () => {
    const [reps] = await db.query<{ linked: number; total: number }>(
      `SELECT count(*) FILTER (WHERE p.id IS NOT NULL)::int AS linked, count(*)::int AS total
         FROM entities e LEFT JOIN persons p ON p.id = e.legal_rep_person_id
        WHERE NOT (e.uscc = ANY($1::text[]))`,
      [manifest.defects.legal_rep_missing],
    );
    expect(reps!.linked).toBe(reps!.total);
    const missing = await db.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM entities WHERE uscc = ANY($1::text[]) AND legal_rep_person_id IS NULL',
      [manifest.defects.legal_rep_missing],
    );
    expect(missing[0]!.n).toBe(manifest.defects.legal_rep_missing.length);
    expect(manifest.defects.legal_rep_missing.length).toBeGreaterThanOrEqual(5);

    const deceased = await db.query<{ uscc: string }>(
      `SELECT e.uscc FROM entities e JOIN persons p ON p.id = e.legal_rep_person_id
        WHERE p.status = 'deceased' ORDER BY e.id`,
    );
    expect(deceased.map((r) => r.uscc).sort()).toEqual([...manifest.defects.legal_rep_deceased].sort());
    expect(deceased.length).toBe(6);

    const outside = await db.query<{ uscc: string }>(
      `SELECT e.uscc FROM entities e
         JOIN divisions c ON c.code = e.division_code
         LEFT JOIN divisions p ON p.code = c.parent_code AND p.level = 'city'
        WHERE e.point IS NOT NULL AND NOT ST_Covers(coalesce(c.boundary, p.boundary), e.point)
        ORDER BY e.id`,
    );
    expect(outside.map((r) => r.uscc).sort()).toEqual([...manifest.defects.point_outside_division].sort());
    expect(outside.length).toBe(6);

    const over = await db.query<{ uscc: string }>(
      `SELECT e.uscc FROM entities e JOIN shareholdings s ON s.entity_id = e.id AND s.ended_on IS NULL
        GROUP BY e.id, e.uscc HAVING sum(s.percentage) > 100 ORDER BY e.id`,
    );
    expect(over.map((r) => r.uscc).sort()).toEqual([...manifest.defects.shareholdings_over_100].sort());
    expect(over.length).toBe(6);
    expect(manifest.notes).toEqual([]);
  });

  it('builds deep chains and cycles into the shareholding graph', async () => {
    expect(manifest.chains.length).toBeGreaterThanOrEqual(1);
    expect(manifest.chains[0]!.length).toBe(8);
    const ids = new Map(
      (
        await db.query<{ id: number; uscc: string }>(
          'SELECT id, uscc FROM entities WHERE uscc = ANY($1::text[])',
          [[...manifest.chains.flat(), ...manifest.cycles.flat()]],
        )
      ).map((r) => [r.uscc, Number(r.id)]),
    );
    const holds = async (holder: string, held: string) => {
      const found = await db.query(
        'SELECT 1 FROM shareholdings WHERE shareholder_entity_id = $1 AND entity_id = $2 AND ended_on IS NULL',
        [ids.get(holder), ids.get(held)],
      );
      return found.length > 0;
    };
    const chain = manifest.chains[0]!;
    for (let k = 0; k < chain.length - 1; k++) expect(await holds(chain[k + 1]!, chain[k]!)).toBe(true);
    // Each link is a majority: the control chain from the bottom climbs the whole chain.
    const [steps] = await controlChains(db, [ids.get(chain[0]!)!], 0.5, 20);
    expect(steps!.length).toBeGreaterThanOrEqual(chain.length - 1);
    expect(manifest.cycles.length).toBeGreaterThanOrEqual(1);
    for (const cycle of manifest.cycles) {
      for (let k = 0; k < cycle.length; k++) {
        expect(await holds(cycle[(k + 1) % cycle.length]!, cycle[k]!)).toBe(true);
      }
    }
  });

  it('appends a second run without code collisions', async () => {
    const more = await generateEntities(db, { entities: 100, seed: 'test-seed', asOf: '2025-06-30' });
    expect(more.entities).toBe(100);
    const [row] = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM entities');
    expect(row!.n).toBe(700);
  });

  it('validates its options', () => {
    expect(() => normaliseEntityOptions({ entities: -1, seed: 1 })).toThrow(RangeError);
    expect(() => normaliseEntityOptions({ entities: 1, seed: 1, asOf: '2025-02-30' })).toThrow(/asOf/);
    expect(() =>
      normaliseEntityOptions({ entities: 1, seed: 1, defects: { bad_uscc_check: 2 } as never }),
    ).toThrow(/0 to 1/);
  });
});
