import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main as importCli } from '../scripts/import.ts';
import { installDemoAccess } from '../src/access/demo.ts';
import { usccCheckChar } from '../src/codes/index.ts';
import { runImport } from '../src/ingest/import/pipeline.ts';
import { type TestDatabase, testDatabase } from '../src/testing/database.ts';
import {
  countRows,
  ENTITY_HEADER,
  entity,
  freshUscc,
  person,
  readRejects,
  tempDir,
  writeCsv,
} from './import-fixtures.ts';

let db: TestDatabase;
let dir: string;
const rep = person({ name: '法定代表' });
const dead = person({ name: '已故者', status: 'deceased', death_date: '2020-02-02' });

beforeAll(async () => {
  db = await testDatabase();
  await installDemoAccess(db);
  dir = tempDir();
  await db.query(
    `INSERT INTO layers (id, theme, name, owner_dept, geometry_type, update_frequency, classification, source_dept)
     VALUES ('farmland', 'farmland', '耕地', 'MNR', 'MultiPolygon', 'yearly', 'public', 'MNR'),
            ('ecology', 'ecology', '生态监测点', 'MEE', 'Point', 'monthly', 'public', 'MNR')`,
  );
  await run('persons', writeCsv(dir, 'reps.csv', [rep, dead]), 'MPS');
});
afterAll(async () => {
  await db?.dispose();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function run(registry: string, path: string, source: string, extra: Record<string, unknown> = {}) {
  return runImport(db, {
    registry,
    input: { kind: 'file', path },
    sourceDept: source,
    submittedBy: 'test',
    ...extra,
  });
}

/** A valid USCC whose embedded organisation-code check is wrong: an early pilot code (accepted, flagged). */
function pilotUscc(): string {
  const valid = freshUscc('440305');
  const orgCheck = valid[16] === '0' ? '1' : '0';
  const first17 = `${valid.slice(0, 16)}${orgCheck}`;
  return `${first17}${usccCheckChar(first17)}`;
}

describe('an entities CSV', () => {
  it('merges head offices and branches, and refuses each kind of defect', async () => {
    const head = entity({ name: '深圳市总部有限公司', legal_rep_id_number: rep.id_number });
    const branch = entity({
      name: '深圳市总部有限公司南山分公司',
      legal_form: 'branch',
      parent_uscc: head.uscc,
    });
    const pilot = entity({ uscc: pilotUscc(), name: '深圳市试点代码有限公司' });
    const badCheck = entity({ name: '校验错误' });
    badCheck.uscc = `${badCheck.uscc!.slice(0, 17)}${badCheck.uscc!.endsWith('1') ? '2' : '1'}`;
    const rows = [
      branch, // 2: its head office comes later in the file
      head, // 3
      badCheck, // 4
      entity({ legal_rep_id_number: person().id_number }), // 5: no such person
      entity({ legal_rep_id_number: dead.id_number }), // 6: deceased
      entity({ parent_uscc: freshUscc() }), // 7: no such head office
      entity({ division_code: '440399' }), // 8: no such division
      entity({ status: 'revoked', status_date: '2010-01-01', established_on: '2016-05-01' }), // 9
      entity({ legal_form: 'llc' }), // 10
      pilot, // 11
      entity({ registered_capital: '-5' }), // 12
    ];
    const path = writeCsv(dir, 'entities.csv', rows, ENTITY_HEADER);
    const report = await run('entities', path, 'SAMR-440000');
    expect(readRejects(path)).toEqual([
      'row,field,reason',
      expect.stringMatching(/^4,uscc,"is not a valid unified social credit code: check character is /),
      '5,legal_rep_id_number,names no person of the population registry',
      '6,legal_rep_id_number,names a deceased person',
      '7,parent_uscc,names no registered entity (nor one in this delivery)',
      '8,division_code,names no division of GB/T 2260',
      '9,status_date,lies before the establishment date',
      '10,legal_form,"must be one of limited_liability_company, joint_stock_company, sole_proprietorship, partnership, branch, individual_business, farmer_cooperative, state_organ, public_institution, social_organisation, private_non_enterprise, foundation, other"',
      '12,registered_capital,must be at least 0',
    ]);
    expect(report).toMatchObject({ totalRows: 11, accepted: 3, rejected: 8, inserted: 3, changed: 0 });
    const stored = await db.query<{
      uscc: string;
      parent: string | null;
      rep: string | null;
      status: string;
      usccStatus: string;
    }>(
      `SELECT e.uscc, p.uscc AS parent, e.legal_rep_name AS rep, e.uscc_status AS "usccStatus", e.status
         FROM entities e LEFT JOIN entities p ON p.id = e.parent_entity_id
        WHERE e.source_batch = $1 ORDER BY e.parent_entity_id NULLS FIRST, e.uscc_status DESC`,
      [report.batchId],
    );
    expect(stored).toEqual([
      { uscc: head.uscc, parent: null, rep: '法定代表', usccStatus: 'valid', status: 'active' },
      { uscc: pilot.uscc, parent: null, rep: null, usccStatus: 'pilot_exception', status: 'active' },
      { uscc: branch.uscc, parent: head.uscc, rep: null, usccStatus: 'valid', status: 'active' },
    ]);
    // The change log: three registrations of this batch.
    expect(await countRows(db, 'change_log', `batch = $1 AND action = 'registered'`, [report.batchId])).toBe(
      3,
    );

    // A status change by market regulation passes; by civil affairs (another line) it is refused.
    const chaoyang = entity({
      division_code: '110105',
      registration_authority: '北京市朝阳区市场监督管理局',
    });
    await run('entities', writeCsv(dir, 'chaoyang.csv', [chaoyang], ENTITY_HEADER), 'SAMR');
    const change = (source: string, name: string) =>
      run(
        'entities',
        writeCsv(
          dir,
          name,
          [{ uscc: chaoyang.uscc, status: 'revoked', status_date: '2024-01-02' } as never],
          ['uscc', 'status', 'status_date'],
        ),
        source,
      );
    const byCivilAffairs = await change('CA-110105', 'status-ca.csv');
    expect(byCivilAffairs.rejects).toEqual([
      {
        row: 2,
        field: 'status',
        reason:
          'may be changed only by a market_regulation department, its authoritative source (CA-110105 is civil_affairs)',
      },
      {
        row: 2,
        field: 'status_date',
        reason:
          'may be changed only by a market_regulation department, its authoritative source (CA-110105 is civil_affairs)',
      },
    ]);
    expect(await change('SAMR', 'status-samr.csv')).toMatchObject({ changed: 1 });
    const [log] = await db.query<{ action: string }>(
      `SELECT action FROM change_log WHERE record_key = $1 ORDER BY seq DESC LIMIT 1`,
      [chaoyang.uscc],
    );
    expect(log!.action).toBe('status_changed');
  });
});

const square = (x: number, y: number, d = 0.002) => [
  [
    [x, y],
    [x + d, y],
    [x + d, y + d],
    [x, y + d],
    [x, y],
  ],
];

function collection(features: unknown[], crs?: string): string {
  return JSON.stringify({
    type: 'FeatureCollection',
    ...(crs ? { crs: { type: 'name', properties: { name: crs } } } : {}),
    features,
  });
}

const feature = (id: string | undefined, geometry: unknown, properties: Record<string, unknown>) => ({
  type: 'Feature',
  ...(id === undefined ? {} : { id }),
  geometry,
  properties,
});

describe('a GeoJSON of thematic-layer features', () => {
  it('validates geometry, CRS, type and properties, and merges by the source’s feature key', async () => {
    const good = feature(
      'F-1',
      { type: 'Polygon', coordinates: square(116.45, 39.92) },
      { crop: 'rice', irrigated: true },
    );
    const features = [
      good, // 1
      feature(
        'F-2',
        {
          type: 'Polygon',
          coordinates: [
            [
              [116.45, 39.92],
              [116.46, 39.93],
              [116.46, 39.92],
              [116.45, 39.93],
              [116.45, 39.92],
            ],
          ],
        },
        { crop: 'wheat' },
      ), // 2: self-intersection
      feature(
        'F-3',
        {
          type: 'Polygon',
          coordinates: [
            [
              [116.45, 39.92],
              [116.46, 39.92],
              [116.46, 39.93],
              [116.45, 39.93],
            ],
          ],
        },
        {},
      ), // 3
      feature('F-4', { type: 'Point', coordinates: [116.45, 39.92] }, {}), // 4
      feature('F-5', { type: 'Polygon', coordinates: square(116.47, 39.92) }, { crop: 'banana' }), // 5
      feature('F-6', { type: 'Polygon', coordinates: square(116.48, 39.92) }, { colour: 'green' }), // 6
      feature(undefined, { type: 'Polygon', coordinates: square(116.49, 39.92) }, {}), // 7
      feature('F-8', { type: 'Polygon', coordinates: square(12958175, 4825923, 100) }, {}), // 8
      feature(
        'E-1',
        { type: 'Point', coordinates: [116.45, 39.92] },
        { layer_id: 'ecology', indicator: 'air' },
      ), // 9
      feature('F-1', { type: 'Polygon', coordinates: square(116.5, 39.92) }, {}), // 10
      { type: 'Feature', id: 'F-11', geometry: null, properties: {} }, // 11
    ];
    const path = join(dir, 'farmland.geojson');
    writeFileSync(path, collection(features));
    const report = await run('features', path, 'MNR', { defaults: { layer_id: 'farmland' } });
    expect(readRejects(path)).toEqual([
      'row,field,reason',
      expect.stringMatching(/^2,geom,is not a valid geometry: Self-intersection\[/),
      '3,geom,a ring is not closed (first and last positions differ)',
      '4,geom,"must be a Polygon or MultiPolygon for layer farmland, not a Point"',
      '5,properties,"\'crop\' must be one of rice, wheat, maize, soybean (layer farmland)"',
      "6,properties,'colour' is not a property of the layer (layer farmland)",
      '7,feature_key,is required: it identifies the record',
      '8,geom,"coordinates (12958175, 4825923) are not longitude/latitude: projected coordinates, or the wrong CRS"',
      '9,layer_id,layer is owned by another department than MNR',
      '10,layer_id,repeats the record of row 1',
      '11,geom,is required',
    ]);
    expect(report).toMatchObject({ accepted: 1, inserted: 1, rejected: 10 });
    const [stored] = await db.query<{ type: string; division: string; crop: string }>(
      `SELECT ST_GeometryType(f.geom) AS type, f.division_code AS division, f.properties->>'crop' AS crop
         FROM features f JOIN feature_keys k ON k.feature_id = f.id WHERE k.layer_id = 'farmland' AND k.feature_key = 'F-1'`,
    );
    expect(stored).toEqual({ type: 'ST_MultiPolygon', division: '110105', crop: 'rice' });

    // Delivered again with a change: an update of the same feature; then identical again: unchanged.
    const changed = join(dir, 'farmland-2.geojson');
    writeFileSync(changed, collection([feature('F-1', good.geometry, { crop: 'maize', irrigated: true })]));
    expect(await run('features', changed, 'MNR', { defaults: { layer_id: 'farmland' } })).toMatchObject({
      changed: 1,
      inserted: 0,
    });
    const same = join(dir, 'farmland-3.geojson');
    writeFileSync(
      same,
      `${collection([feature('F-1', good.geometry, { crop: 'maize', irrigated: true })])}\n`,
    );
    expect(await run('features', same, 'MNR', { defaults: { layer_id: 'farmland' } })).toMatchObject({
      changed: 0,
      unchanged: 1,
    });
    const log = await db.query<{ action: string; fields: string[] | null }>(
      `SELECT c.action, c.changed_fields AS fields FROM change_log c JOIN feature_keys k ON c.record_key = k.feature_id::text
        WHERE c.record_type = 'feature' AND k.feature_key = 'F-1' ORDER BY c.seq`,
    );
    expect(log).toEqual([
      { action: 'registered', fields: null },
      { action: 'updated', fields: ['properties'] },
    ]);
  });

  it('refuses every feature of a collection in an unsupported CRS', async () => {
    const path = join(dir, 'mercator.geojson');
    writeFileSync(
      path,
      collection(
        [feature('M-1', { type: 'Polygon', coordinates: square(116.45, 39.92) }, {})],
        'urn:ogc:def:crs:EPSG::3857',
      ),
    );
    const report = await run('features', path, 'MNR', { defaults: { layer_id: 'farmland' } });
    expect(report.rejects).toEqual([
      {
        row: 1,
        field: 'geom',
        reason: 'is in a CRS other than EPSG:4490 or EPSG:4326 (the collection’s crs member)',
      },
    ]);
  });
});

describe('an NDJSON of persons and the CLI', () => {
  it('reads JSON values and GeoJSON points, refusing bad lines and unknown fields', async () => {
    const a = person({ name: '甲' });
    const b = person({ name: '乙' });
    const path = join(dir, 'persons.ndjson');
    writeFileSync(
      path,
      [
        JSON.stringify({ ...a, residence_point: { type: 'Point', coordinates: [116.44, 39.91] } }),
        '{"id_number": ',
        JSON.stringify({ ...b, shoe_size: 42 }),
        JSON.stringify(['not', 'an', 'object']),
      ].join('\n'),
    );
    const report = await run('persons', path, 'MPS');
    expect(readRejects(path)).toEqual([
      'row,field,reason',
      '2,*,row is not valid JSON',
      '3,shoe_size,is not a field of persons',
      '4,*,row is not a JSON object',
    ]);
    expect(report).toMatchObject({ inserted: 1, rejected: 3 });
  });

  it('imports through npm run import and lists the batches', async () => {
    const path = writeCsv(dir, 'cli.csv', [person({ name: '命令行' }), person({ phone: 'no' })]);
    const lines: string[] = [];
    const code = await importCli(['persons', path, '--source', 'MPS', '--batch', 'cli-batch-1'], {
      db,
      log: (l) => lines.push(l),
      progress: false,
    });
    expect(code).toBe(1); // merged, with a rejected row
    expect(lines.join('\n')).toContain('batch cli-batch-1');
    expect(lines.join('\n')).toContain('inserted 1, changed 0, unchanged 0');
    const again: string[] = [];
    expect(
      await importCli(['persons', path, '--source', 'MPS'], {
        db,
        log: (l) => again.push(l),
        progress: false,
      }),
    ).toBe(0);
    expect(again.join('\n')).toContain(
      'batch cli-batch-1 was merged before: nothing to do (1 rows unchanged)',
    );
    const listed: string[] = [];
    expect(await importCli(['--list', '--registry', 'persons'], { db, log: (l) => listed.push(l) })).toBe(0);
    expect(listed[0]).toMatch(/^batch\s+registry\s+source\s+status/);
    expect(
      listed.some(
        (l) => l.startsWith('cli-batch-1') && /persons\s+MPS\s+merged/.test(l) && l.endsWith('2 1 1 1 0 0'),
      ),
    ).toBe(true);
    const errors: string[] = [];
    expect(await importCli(['persons', path, '--source', 'NOPE'], { db, error: (l) => errors.push(l) })).toBe(
      2,
    );
    expect(errors[0]).toContain("--source 'NOPE' is not a registered department");
  });
});
