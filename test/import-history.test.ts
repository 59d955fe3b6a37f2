import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_PRINCIPALS } from '../src/access/demo.ts';
import type { Gateway } from '../src/gateway/server.ts';
import { runImport } from '../src/ingest/import/pipeline.ts';
import { type TestDatabase, testDatabase } from '../src/testing/database.ts';
import { asKey, gql, testGateway } from '../src/testing/gateway.ts';
import { person, storedPerson, tempDir, writeCsv } from './import-fixtures.ts';

/**
 * Features keep history like persons and entities (migration 0016): an import that changes a feature
 * writes the previous version to features_history with its transaction-time validity, the change log and
 * the lineage carry the version, `feature(id, asOf:)` and `featureVersions(id)` read them, and the OGC
 * items serve the current rows only. Lineage of a record in GraphQL, for callers with a grant on
 * governance.import_lineage.
 */

const STEWARD = DEMO_PRINCIPALS.platformSteward.key;
const CA = DEMO_PRINCIPALS.countyCivilAffairs.key; // no grant on the feature history
const MPS = DEMO_PRINCIPALS.nationalPublicSecurity.key; // no grant on the lineage

let db: TestDatabase;
let gateway: Gateway;
let dir: string;

beforeAll(async () => {
  db = await testDatabase();
  gateway = await testGateway(db);
  dir = tempDir();
  await db.query(
    `INSERT INTO layers (id, theme, name, owner_dept, geometry_type, update_frequency, classification, source_dept)
     VALUES ('farmland', 'farmland', '耕地', 'MNR', 'MultiPolygon', 'yearly', 'public', 'MNR')
     ON CONFLICT (id) DO NOTHING`,
  );
});
afterAll(async () => {
  await db?.dispose();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const square = (x: number, y: number, d = 0.001) => [
  [
    [x, y],
    [x + d, y],
    [x + d, y + d],
    [x, y + d],
    [x, y],
  ],
];

function delivery(name: string, crop: string, x = 116.45) {
  const path = join(dir, name);
  writeFileSync(
    path,
    JSON.stringify({
      type: 'FeatureCollection',
      features: [
        {
          type: 'Feature',
          id: 'H-1',
          geometry: { type: 'Polygon', coordinates: square(x, 39.92) },
          properties: { crop, irrigated: true },
        },
      ],
    }),
  );
  return runImport(db, {
    registry: 'features',
    input: { kind: 'file', path },
    sourceDept: 'MNR',
    submittedBy: 'test',
    defaults: { layer_id: 'farmland' },
  });
}

const pause = () => new Promise((resolve) => setTimeout(resolve, 30));

describe('feature history', () => {
  let featureId: string;
  let between: Date;

  it('an import that changes a feature keeps the previous version with its validity', async () => {
    const first = await delivery('h1.geojson', 'rice');
    expect(first).toMatchObject({ inserted: 1, rejected: 0 });
    const [row] = await db.query<{ id: string; version: number }>(
      `SELECT f.id::text AS id, f.version FROM features f JOIN feature_keys k ON k.feature_id = f.id
        WHERE k.layer_id = 'farmland' AND k.feature_key = 'H-1'`,
    );
    featureId = row!.id;
    expect(row!.version).toBe(1);
    await pause();
    between = new Date();
    await pause();

    const second = await delivery('h2.geojson', 'maize');
    expect(second).toMatchObject({ changed: 1, inserted: 0 });
    const [now] = await db.query<{ version: number; crop: string; recordedFrom: Date }>(
      `SELECT version, properties->>'crop' AS crop, recorded_from AS "recordedFrom" FROM features WHERE id = $1`,
      [featureId],
    );
    expect(now).toMatchObject({ version: 2, crop: 'maize' });
    const history = await db.query<{
      version: number;
      crop: string;
      recordedFrom: Date;
      supersededAt: Date;
      batch: string;
    }>(
      `SELECT version, properties->>'crop' AS crop, recorded_from AS "recordedFrom", superseded_at AS "supersededAt",
              source_batch AS batch
         FROM features_history WHERE id = $1 ORDER BY version`,
      [featureId],
    );
    expect(history).toHaveLength(1);
    expect(history[0]).toMatchObject({ version: 1, crop: 'rice', batch: first.batchId });
    expect(new Date(history[0]!.recordedFrom).getTime()).toBeLessThan(between.getTime());
    expect(new Date(history[0]!.supersededAt).getTime()).toBe(new Date(now!.recordedFrom).getTime());

    // The change log and the lineage carry the versions.
    const log = await db.query<{ action: string; version: number; batch: string }>(
      `SELECT action, version, batch FROM change_log WHERE record_type = 'feature' AND record_key = $1 ORDER BY seq`,
      [featureId],
    );
    expect(log).toEqual([
      { action: 'registered', version: 1, batch: first.batchId },
      { action: 'updated', version: 2, batch: second.batchId },
    ]);
    const lineage = await db.query<{ batch: string; version: number; action: string }>(
      `SELECT batch_id AS batch, version, action FROM import_lineage
        WHERE record_type = 'feature' AND record_id = $1 ORDER BY version`,
      [featureId],
    );
    expect(lineage).toEqual([
      { batch: first.batchId, version: 1, action: 'inserted' },
      { batch: second.batchId, version: 2, action: 'updated' },
    ]);

    // The same delivery again: unchanged, no new version.
    expect(await delivery('h3.geojson', 'maize')).toMatchObject({ changed: 0, unchanged: 1 });
    const [{ n }] = (await db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM features_history WHERE id = $1`,
      [featureId],
    )) as [{ n: number }];
    expect(n).toBe(1);
    // Bookkeeping only (a manual correction of updated_at): no new version either.
    await db.query(`UPDATE features SET updated_at = '2025-06-20' WHERE id = $1`, [featureId]);
    const [kept] = await db.query<{ version: number; updated: string }>(
      `SELECT version, updated_at::date::text AS updated FROM features WHERE id = $1`,
      [featureId],
    );
    expect(kept).toEqual({ version: 2, updated: '2025-06-20' });
  });

  it('feature(asOf:) returns the older version and featureVersions lists them (history grant)', async () => {
    const query = `query($id: String!, $asOf: DateTime) { feature(id: $id, asOf: $asOf) {
      id version properties { name value } } }`;
    const crop = (r: { properties: { name: string; value: string }[] }) =>
      r.properties.find((p) => p.name === 'crop')?.value;
    const before = await gql(gateway, query, { id: featureId, asOf: between.toISOString() }, asKey(STEWARD));
    expect(before.errors).toBeUndefined();
    expect(before.data!.feature).toMatchObject({ id: featureId, version: 1 });
    expect(crop(before.data!.feature)).toBe('rice');
    const now = await gql(gateway, query, { id: featureId }, asKey(STEWARD));
    expect(now.data!.feature).toMatchObject({ version: 2 });
    expect(crop(now.data!.feature)).toBe('maize');
    const earlier = await gql(
      gateway,
      query,
      { id: featureId, asOf: '2000-01-01T00:00:00Z' },
      asKey(STEWARD),
    );
    expect(earlier.data!.feature).toBeNull();

    const versions = await gql(
      gateway,
      `query($id: String!) { featureVersions(id: $id) { version supersededAt sourceBatch } }`,
      { id: featureId },
      asKey(STEWARD),
    );
    expect(versions.errors).toBeUndefined();
    expect(versions.data!.featureVersions.map((v: { version: number }) => v.version)).toEqual([2, 1]);
    expect(versions.data!.featureVersions[0].supersededAt).toBeNull();
    expect(versions.data!.featureVersions[1].supersededAt).not.toBeNull();

    // Without a grant on the history: refused, naming the dataset; the current feature is public.
    const refused = await gql(gateway, query, { id: featureId, asOf: between.toISOString() }, asKey(CA));
    expect(refused.errors?.[0]?.extensions?.code).toBe('FORBIDDEN_DATASET');
    expect(refused.errors?.[0]?.message).toContain('spatial.features_history');
    const publicNow = await gql(gateway, `query($id: String!) { feature(id: $id) { id } }`, {
      id: featureId,
    });
    expect(publicNow.data!.feature).toEqual({ id: featureId });
  });

  it('the OGC items serve the current version only', async () => {
    const response = await gateway.fetch(
      'http://govbase.test/ogc/collections/layer-farmland/items?limit=1000',
    );
    expect(response.status).toBe(200);
    const body = (await response.json()) as {
      features: { id: string | number; properties: { crop?: string } }[];
    };
    const ours = body.features.filter((f) => String(f.id) === featureId);
    expect(ours).toHaveLength(1);
    expect(ours[0]!.properties.crop).toBe('maize');
  });
});

describe('lineage in GraphQL', () => {
  it('a steward reads the lineage of an imported person; a department without the grant is refused', async () => {
    const p = person({ name: '血缘人' });
    const path = writeCsv(dir, 'lineage.csv', [p]);
    const report = await runImport(db, {
      registry: 'persons',
      input: { kind: 'file', path },
      sourceDept: 'MPS',
      submittedBy: 'test',
    });
    expect(report).toMatchObject({ inserted: 1 });
    // A delivery that moves the person, on its second record.
    const move = writeCsv(dir, 'lineage-3.csv', [
      person({ name: '血缘人三' }),
      { ...p, residence_division_code: '110108', residence_address: '北京市海淀区新址1号' },
    ]);
    const third = await runImport(db, {
      registry: 'persons',
      input: { kind: 'file', path: move },
      sourceDept: 'MPS',
      submittedBy: 'test',
    });
    expect(third).toMatchObject({ changed: 1 });
    const stored = await storedPerson(db, p.id_number!);
    const [batch] = await db.query<{ checksum: string }>(
      `SELECT file_checksum AS checksum FROM import_batches WHERE id = $1`,
      [third.batchId],
    );

    const query = `query($id: String!) { person(idNumber: $id) { name lineage {
      batchId rowNo version action sourceDept fileName fileChecksum format mergedAt } } }`;
    const steward = await gql(gateway, query, { id: p.id_number }, asKey(STEWARD, 'data_governance'));
    expect(steward.errors).toBeUndefined();
    expect(steward.data!.person.lineage).toEqual([
      {
        batchId: third.batchId,
        rowNo: 3, // the line in the file: the header is line 1
        version: 2,
        action: 'updated',
        sourceDept: 'MPS',
        fileName: 'lineage-3.csv',
        fileChecksum: batch!.checksum,
        format: 'csv',
        mergedAt: expect.any(String),
      },
      expect.objectContaining({ batchId: report.batchId, rowNo: 2, version: 1, action: 'inserted' }),
    ]);
    expect(stored!.version).toBe(2);

    // Public security reads the person (grant on persons) but has no grant on the lineage.
    const mps = await gql(gateway, query, { id: p.id_number }, asKey(MPS, 'criminal_investigation'));
    expect(mps.errors?.[0]?.extensions?.code).toBe('FORBIDDEN_DATASET');
    expect(mps.errors?.[0]?.message).toContain('Person.lineage');
    expect(mps.errors?.[0]?.path).toEqual(['person', 'lineage']);
    // The person itself is served; only the link is refused, revealing no lineage rows.
    expect(mps.data!.person).toEqual({ name: '血缘人', lineage: null });
  });
});
