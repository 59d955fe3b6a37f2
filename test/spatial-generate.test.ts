import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateLayers, type LayersManifest } from '../src/ingest/generate/layers.ts';
import { LAYERS } from '../src/registries/spatial/layer-catalogue.ts';
import { type TestDatabase, testDatabase } from '../src/testing/database.ts';

describe('generateLayers', () => {
  let db: TestDatabase;
  let manifest: LayersManifest;
  beforeAll(async () => {
    db = await testDatabase();
    manifest = await generateLayers(db, { seed: 7, perLayer: 12, prefixes: ['11', '31'] });
  });
  afterAll(() => db?.dispose());

  it('writes every layer and the injected invalid geometries', async () => {
    expect(manifest.layers).toBe(LAYERS.length);
    for (const layer of LAYERS) expect(manifest.features[layer.id]).toBeGreaterThan(0);
    expect(manifest.invalid).toHaveLength(3);
    for (const bad of manifest.invalid) expect(bad.reason).toMatch(/Self-intersection/i);
  });

  it('every valid feature lies inside its division; only the injected ones are invalid', async () => {
    const [row] = await db.query<{ invalid: number[]; outside: number; total: number }>(
      `SELECT coalesce(array_agg(f.id ORDER BY f.id) FILTER (WHERE NOT ST_IsValid(f.geom)), '{}') AS invalid,
              count(*) FILTER (WHERE ST_IsValid(f.geom) AND NOT ST_CoveredBy(f.geom, d.boundary))::int AS outside,
              count(*)::int AS total
         FROM features f JOIN divisions d ON d.code = f.division_code`,
    );
    expect(row!.total).toBeGreaterThan(LAYERS.length * 10);
    expect(row!.invalid.map(Number)).toEqual(manifest.invalid.map((i) => i.id).sort((a, b) => a - b));
    expect(row!.outside).toBe(0);
  });

  it('the gazetteer holds real division names inside their polygons', async () => {
    const [row] = await db.query<{ towns: number; outside: number; dongcheng: number }>(
      `SELECT count(*) FILTER (WHERE p.type = 'town_seat')::int AS towns,
              count(*) FILTER (WHERE d.boundary IS NOT NULL AND NOT ST_Intersects(p.point, d.boundary))::int AS outside,
              count(*) FILTER (WHERE p.name = '东城区' AND p.type = 'county_seat')::int AS dongcheng
         FROM place_names p JOIN divisions d ON d.code = p.division_code`,
    );
    expect(row!.towns).toBeGreaterThan(100);
    expect(row!.outside).toBe(0);
    expect(row!.dongcheng).toBe(1);
    expect(manifest.placeNames).toBeGreaterThan(row!.towns);
  });

  it('remote-sensing footprints carry acquisition time, sensor and cloud cover', async () => {
    const found = await db.query<{ properties: Record<string, unknown> }>(
      `SELECT properties FROM features WHERE layer_id = 'rs-footprints' LIMIT 1`,
    );
    expect(Object.keys(found[0]!.properties).sort()).toEqual(['acquired_at', 'cloud_cover', 'sensor']);
  });
});
