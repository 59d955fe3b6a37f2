import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { personsDataset } from '../schema/population.ts';
import { main as exportCli } from '../scripts/export.ts';
import { sm3Hex } from '../src/access/sm3.ts';
import { defineAttribute, retireAttribute } from '../src/attributes/definitions.ts';
import { loadConfig } from '../src/config.ts';
import type { Gateway } from '../src/gateway/server.ts';
import { generateEntities } from '../src/ingest/generate/entities.ts';
import { generatePopulation } from '../src/ingest/generate/population.ts';
import { runImport } from '../src/ingest/import/pipeline.ts';
import { mapRoute } from '../src/map/route.ts';
import { ogcRoute, tilesRoute } from '../src/ogc/index.ts';
import {
  assertOpenable,
  entryOf,
  exportOpenDataset,
  OPEN_DATASETS,
  OPEN_FORMATS,
  type OpenDataset,
  openDataRoute,
  openDatasetById,
  openParameters,
} from '../src/open-data/index.ts';
import { type TestDatabase, testDatabase } from '../src/testing/database.ts';
import { testGateway } from '../src/testing/gateway.ts';

const AS_OF = '2025-06-30';
const THRESHOLD = 5;

let db: TestDatabase;
let gateway: Gateway;
const parcels: number[] = [];

beforeAll(async () => {
  db = await testDatabase();
  await generatePopulation(db, { persons: 1500, seed: 'open', asOf: AS_OF });
  await generateEntities(db, { entities: 300, seed: 'open', asOf: AS_OF });
  // Three farmland parcels (a public layer) for the layer export.
  for (const [x, crop, irrigated] of [
    [116.4, 'rice', true],
    [116.42, 'wheat', false],
    [116.44, 'maize', true],
  ] as const) {
    const [f] = await db.query<{ id: number }>(
      `INSERT INTO features (layer_id, geom, properties, division_code, source_dept, valid_from)
       VALUES ('farmland', ST_SetSRID(ST_GeomFromText('MULTIPOLYGON(((${x} 39.9, ${x + 0.01} 39.9, ${x + 0.01} 39.91, ${x} 39.91, ${x} 39.9)))'), 4490),
               $1::jsonb, '110105', 'MNR', date '2024-01-01') RETURNING id`,
      [JSON.stringify({ crop, irrigated })],
    );
    parcels.push(Number(f!.id));
  }
  gateway = await testGateway(db, {
    config: { ...loadConfig({}), mode: 'test', suppressionThreshold: THRESHOLD },
    routes: [ogcRoute(), tilesRoute(), mapRoute(), openDataRoute()],
  });
}, 600_000); // generated data: ~1 min alone on PGlite, several beside other test files
afterAll(() => db?.dispose());

const params = () => openParameters({ asOf: AS_OF }, THRESHOLD);

/** The field names an export carries: the CSV header, or every GeoJSON property key plus geometry. */
function exportedFields(format: string, body: string): string[] {
  if (format === 'csv') return body.split('\r\n')[0]!.split(',');
  const parsed = JSON.parse(body) as {
    features: { properties: Record<string, unknown>; geometry: unknown }[];
  };
  const keys = new Set<string>();
  for (const f of parsed.features) {
    for (const k of Object.keys(f.properties)) keys.add(k);
    if (f.geometry) keys.add('geometry');
  }
  return [...keys];
}

describe('open data exports', () => {
  it.each(OPEN_DATASETS.flatMap((d) => OPEN_FORMATS.map((f) => [d.id, f] as const)))(
    '%s as %s carries no field above the public level, with a faithful manifest',
    async (id, format) => {
      const dataset = openDatasetById(id)!;
      const { body, manifest } = await exportOpenDataset(db, dataset, format, params());
      const text = body.toString('utf8');
      const fields = exportedFields(format, text);
      expect(fields.length).toBeGreaterThan(2);
      for (const name of fields) {
        const source =
          name === 'geometry'
            ? dataset.geometry?.source
            : dataset.columns.find((c) => c.name === name)?.source;
        expect(source, `${id}.${name} is not declared`).toBeDefined();
        const entry = entryOf(source!)!;
        expect(entry.level, `${id}.${name}`).toBe('public');
        expect(entry.open, `${id}.${name}`).toBe(true);
      }
      for (const f of manifest.fields)
        expect(f, `${id}.${f.name}`).toMatchObject({ level: 'public', open: true });
      // No value shaped like a citizen ID number or a mobile number anywhere in the file.
      expect(text).not.toMatch(/\b\d{17}[\dX]\b/);
      expect(text).not.toMatch(/\b1[3-9]\d{9}\b/);
      expect(manifest.sha256).toBe(createHash('sha256').update(body).digest('hex'));
      expect(manifest.sm3).toBe(sm3Hex(body));
      expect(manifest.bytes).toBe(body.length);
      const rows =
        format === 'csv'
          ? text.trimEnd().split('\r\n').length - 1
          : (JSON.parse(text) as { features: unknown[] }).features.length;
      expect(manifest.rows).toBe(rows);
      expect(rows).toBeGreaterThan(0);
      expect(manifest.sources).toEqual(dataset.sources);
    },
  );

  it('refuses to declare a column above the public level', () => {
    const leaky: OpenDataset = {
      ...openDatasetById('population-by-county-age-band')!,
      id: 'leaky',
      columns: [
        {
          name: 'name',
          type: 'string',
          description: 'x',
          source: { dataset: personsDataset as never, field: 'name' },
        },
      ],
    };
    expect(() => assertOpenable(leaky)).toThrow(/leaky\.name: population\.persons\.name is restricted/);
    const notOpen: OpenDataset = {
      ...leaky,
      columns: [
        {
          name: 'id',
          type: 'integer',
          description: 'x',
          source: { dataset: personsDataset as never, field: 'id' },
        },
      ],
    };
    expect(() => assertOpenable(notOpen)).toThrow(/is internal, not open/);
  });

  it('population by county and age band suppresses small counts and adds up otherwise', async () => {
    const { body } = await exportOpenDataset(
      db,
      openDatasetById('population-by-county-age-band')!,
      'csv',
      params(),
    );
    const rows = body
      .toString('utf8')
      .trimEnd()
      .split('\r\n')
      .slice(1)
      .map((l) => l.split(','));
    const expected = await db.query<{ county: string; band: string; n: number }>(
      `SELECT left(residence_division_code, 6) AS county,
              CASE WHEN extract(year FROM age($1::date, birth_date)) < 15 THEN '0-14'
                   WHEN extract(year FROM age($1::date, birth_date)) < 60 THEN '15-59' ELSE '60+' END AS band,
              count(*)::int AS n
         FROM persons WHERE birth_date <= $1::date AND (death_date IS NULL OR death_date > $1::date)
          AND residence_division_code IS NOT NULL
        GROUP BY 1, 2`,
      [AS_OF],
    );
    const counts = new Map(expected.map((e) => [`${e.county}|${e.band}`, Number(e.n)]));
    let suppressed = 0;
    for (const [county, , band, persons, flag] of rows) {
      const n = counts.get(`${county}|${band}`) ?? 0;
      if (flag === 'true') {
        suppressed++;
        expect(persons).toBe('');
      } else {
        expect(Number(persons), `${county} ${band}`).toBe(n);
        expect(n === 0 || n >= THRESHOLD).toBe(true);
      }
    }
    expect(suppressed).toBeGreaterThan(0);
    expect(rows.length).toBe(new Set(expected.map((e) => e.county)).size * 3);
  });
});

describe('/open', () => {
  it('lists the open datasets with links to files and manifests', async () => {
    const r = await gateway.fetch('http://govbase.test/open');
    expect(r.status).toBe(200);
    const index = (await r.json()) as { datasets: { id: string; links: { href: string }[] }[] };
    expect(index.datasets.map((d) => d.id)).toEqual(OPEN_DATASETS.map((d) => d.id));
    expect(index.datasets[2]!.links.map((l) => l.href)).toContain('/open/divisions.geojson.manifest.json');
  });

  it('serves the same bytes as the export, with checksums, a manifest and an audit record, to the public', async () => {
    const url = 'http://govbase.test/open/divisions.geojson?level=province';
    const r = await gateway.fetch(url);
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('application/geo+json');
    const body = Buffer.from(await r.arrayBuffer());
    const expected = await exportOpenDataset(
      db,
      openDatasetById('divisions')!,
      'geojson',
      openParameters({ level: 'province' }, THRESHOLD),
    );
    expect(body.equals(expected.body)).toBe(true);
    const sha = createHash('sha256').update(body).digest();
    expect(r.headers.get('digest')).toBe(`sha-256=${sha.toString('base64')}`);
    expect(r.headers.get('x-checksum-sm3')).toBe(sm3Hex(body));
    const features = (JSON.parse(body.toString('utf8')) as { features: { geometry: { type: string } }[] })
      .features;
    expect(features.length).toBeGreaterThan(30);
    expect(features.every((f) => f.geometry.type === 'MultiPolygon')).toBe(true);
    const [audit] = await db.query<{
      channel: string;
      principal: string;
      operation: string;
      row_counts: Record<string, number>;
    }>('SELECT channel, principal, operation, row_counts FROM audit_log ORDER BY seq DESC LIMIT 1');
    expect(audit).toMatchObject({
      channel: 'export',
      principal: 'public',
      operation: 'open:divisions.geojson',
    });
    expect(audit!.row_counts).toEqual({ divisions: features.length });

    const m = await gateway.fetch('http://govbase.test/open/divisions.geojson.manifest.json?level=province');
    const manifest = (await m.json()) as { sha256: string; rows: number; parameters: { levels: string[] } };
    expect(manifest).toMatchObject({
      sha256: sha.toString('hex'),
      rows: features.length,
      parameters: { levels: ['province'] },
    });
  });

  it('answers unknown datasets with 404 and bad parameters with 400', async () => {
    const missing = await gateway.fetch('http://govbase.test/open/persons.csv');
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { code: string }).code).toBe('NOT_FOUND');
    const bad = await gateway.fetch(
      'http://govbase.test/open/population-by-county-age-band.csv?asOf=yesterday',
    );
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { code: string }).code).toBe('INVALID_ARGUMENT');
  });

  it('npm run export writes the file and its manifest', async () => {
    const out = mkdtempSync(join(tmpdir(), 'govbase-export-'));
    const lines: string[] = [];
    const code = await exportCli(
      ['--dataset', 'entities-by-industry-division', '--format', 'csv', '--out', out],
      { db, log: (l) => lines.push(l) },
    );
    expect(code).toBe(0);
    const file = readFileSync(join(out, 'entities-by-industry-division.csv'));
    const manifest = JSON.parse(
      readFileSync(join(out, 'entities-by-industry-division.csv.manifest.json'), 'utf8'),
    );
    expect(manifest.sha256).toBe(createHash('sha256').update(file).digest('hex'));
    const [total] = await db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM entities WHERE status = 'active'`,
    );
    const sum = file
      .toString('utf8')
      .trimEnd()
      .split('\r\n')
      .slice(1)
      .reduce((s, l) => s + Number(l.split(',').at(-1)), 0);
    expect(sum).toBe(total!.n);
    expect(await exportCli(['--dataset', 'persons', '--format', 'csv'], { db, error: () => undefined })).toBe(
      2,
    );
  });
});

describe('a layer export with attributes (fields on demand)', () => {
  const farmland = {
    recordType: 'feature' as const,
    layerId: 'farmland',
    ownerDept: 'MNR',
    updateFrequency: 'yearly' as const,
  };

  async function csvRows(): Promise<{ header: string[]; rows: Map<number, Record<string, string>> }> {
    const { body } = await exportOpenDataset(db, openDatasetById('farmland')!, 'csv', params());
    const [head, ...lines] = body.toString('utf8').trimEnd().split('\r\n');
    const header = head!.split(',');
    const rows = new Map<number, Record<string, string>>();
    for (const line of lines) {
      const cells = line.split(',');
      rows.set(Number(cells[0]), Object.fromEntries(header.map((h, i) => [h, cells[i]!])));
    }
    return { header, rows };
  }

  it('appends the layer’s public, open attributes with their values, never an internal or conditional one; a retired one leaves', async () => {
    const base = await csvRows();
    expect(base.header).toEqual(['id', 'division_code', 'crop', 'irrigated', 'valid_from', 'version']);
    expect([...base.rows.keys()]).toEqual(parcels);
    expect(base.rows.get(parcels[0]!)).toMatchObject({
      crop: 'rice',
      irrigated: 'true',
      division_code: '110105',
    });

    const define = (code: string, rest: Record<string, unknown>) =>
      defineAttribute(
        db,
        { ...farmland, code, name: code, description: code, mask: 'none', ...rest } as Parameters<
          typeof defineAttribute
        >[1],
        'test',
      );
    await define('irrigation_class', {
      dataType: 'code',
      codeValues: ['A', 'B', 'C'],
      level: 'public',
      share: 'unconditional',
    });
    await define('slope_deg', {
      dataType: 'decimal',
      minValue: 0,
      maxValue: 90,
      level: 'public',
      share: 'unconditional',
    });
    await define('soil_ph', {
      dataType: 'decimal',
      minValue: 0,
      maxValue: 14,
      level: 'internal',
      share: 'unconditional',
    });
    // Public but shared only on conditions: not open, so not exported.
    await define('tenure_note', { dataType: 'text', level: 'public', share: 'conditional' });
    const report = await runImport(db, {
      registry: 'attributes',
      input: {
        kind: 'records',
        name: 'farmland-open-attributes',
        records: [
          { record_type: 'feature', record_key: String(parcels[0]), code: 'irrigation_class', value: 'A' },
          { record_type: 'feature', record_key: String(parcels[1]), code: 'irrigation_class', value: 'C' },
          { record_type: 'feature', record_key: String(parcels[0]), code: 'slope_deg', value: '2.5' },
          { record_type: 'feature', record_key: String(parcels[0]), code: 'soil_ph', value: '6.5' },
          { record_type: 'feature', record_key: String(parcels[1]), code: 'soil_ph', value: '7.1' },
          {
            record_type: 'feature',
            record_key: String(parcels[0]),
            code: 'tenure_note',
            value: 'contract 2019',
          },
        ],
      },
      sourceDept: 'MNR',
      submittedBy: 'test',
    });
    expect(report.rejects).toEqual([]);

    const withAttributes = await csvRows();
    expect(withAttributes.header).toEqual([...base.header, 'irrigation_class', 'slope_deg']);
    expect(withAttributes.rows.get(parcels[0]!)).toMatchObject({ irrigation_class: 'A', slope_deg: '2.5' });
    expect(withAttributes.rows.get(parcels[1]!)).toMatchObject({ irrigation_class: 'C', slope_deg: '' });
    expect(withAttributes.rows.get(parcels[2]!)).toMatchObject({ irrigation_class: '', slope_deg: '' });

    const geojson = await exportOpenDataset(db, openDatasetById('farmland')!, 'geojson', params());
    const parsed = JSON.parse(geojson.body.toString('utf8')) as {
      features: { properties: Record<string, unknown>; geometry: { type: string } }[];
    };
    expect(
      parsed.features.map((f) => [f.properties.id, f.properties.irrigation_class, f.properties.slope_deg]),
    ).toEqual([
      [parcels[0], 'A', 2.5],
      [parcels[1], 'C', null],
      [parcels[2], null, null],
    ]);
    expect(parsed.features[0]!.geometry.type).toBe('MultiPolygon');
    const text = geojson.body.toString('utf8');
    expect(text).not.toMatch(/soil_ph|tenure_note|6\.5|contract 2019/);
    const attributeFields = geojson.manifest.fields.filter((f) => f.source.startsWith('attribute:'));
    expect(attributeFields).toEqual([
      expect.objectContaining({
        name: 'irrigation_class',
        type: 'string',
        source: 'attribute:irrigation_class@v1',
        level: 'public',
        open: true,
      }),
      expect.objectContaining({
        name: 'slope_deg',
        type: 'number',
        source: 'attribute:slope_deg@v1',
        level: 'public',
        open: true,
      }),
    ]);

    // Served by /open (same bytes, audited with the attribute fields) and by npm run export.
    const r = await gateway.fetch('http://govbase.test/open/farmland.csv');
    expect(r.status).toBe(200);
    expect((await r.text()).split('\r\n')[0]).toBe(withAttributes.header.join(','));
    const [audit] = await db.query<{ fields: Record<string, unknown> }>(
      'SELECT fields FROM audit_log ORDER BY seq DESC LIMIT 1',
    );
    expect(Object.keys(audit!.fields)).toContain('farmland.irrigation_class');
    expect(Object.keys(audit!.fields)).not.toContain('farmland.soil_ph');
    const out = mkdtempSync(join(tmpdir(), 'govbase-export-'));
    expect(
      await exportCli(['--dataset', 'farmland', '--format', 'csv', '--out', out], {
        db,
        log: () => undefined,
      }),
    ).toBe(0);
    expect(readFileSync(join(out, 'farmland.csv'), 'utf8').split('\r\n')[0]).toBe(
      withAttributes.header.join(','),
    );

    // Retired: gone from the next export (its values stay in the history).
    await retireAttribute(db, 'feature', 'irrigation_class', 'test', 'replaced by a national classification');
    const retired = await csvRows();
    expect(retired.header).toEqual([...base.header, 'slope_deg']);
    expect(retired.rows.get(parcels[0]!)).toMatchObject({ slope_deg: '2.5' });
  });
});
