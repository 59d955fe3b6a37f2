import type { Queryable } from '../../db/index.ts';
import { LAYERS } from '../../registries/spatial/layer-catalogue.ts';

/**
 * Synthetic features for every layer, inside the real county boundaries, and the gazetteer from the real
 * division names. Set-based: one INSERT … SELECT per layer; PostGIS places the geometry
 * (ST_GeneratePoints inside the county polygon, buffers and lines clipped with ST_Intersection), so every
 * valid feature lies inside its division's polygon. A few self-intersecting bowtie polygons are injected
 * on purpose, for the quality passes; their ids come back in the manifest.
 */
export interface GenerateLayersOptions {
  seed: number;
  /** Features per layer. */
  perLayer: number;
  /** Invalid (bowtie) polygons injected into the first polygon layer. @default 3 */
  invalid?: number;
  /** Division code prefixes whose counties receive features and whose towns get place names. @default all */
  prefixes?: string[];
}

export interface LayersManifest {
  layers: number;
  features: Record<string, number>;
  /** Feature ids of the injected invalid geometries, with the reason PostGIS gives. */
  invalid: { id: number; layerId: string; reason: string }[];
  placeNames: number;
}

const BATCH = 'generate-layers';

export async function generateLayers(db: Queryable, options: GenerateLayersOptions): Promise<LayersManifest> {
  const { seed, perLayer } = options;
  const invalidCount = options.invalid ?? 3;
  const prefixes = options.prefixes ?? [''];
  await db.query(
    `INSERT INTO layers (id, theme, name, owner_dept, geometry_type, crs, update_frequency, classification,
                         source_dept, source_batch)
     SELECT id, theme, name, owner_dept, geometry_type, 'EPSG:4490', update_frequency, classification, 'MNR', $2
       FROM jsonb_to_recordset($1::jsonb) AS l(id text, theme text, name text, owner_dept text,
            geometry_type text, update_frequency text, classification text)
     ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, classification = EXCLUDED.classification,
            updated_at = now()`,
    [
      JSON.stringify(
        LAYERS.map((l) => ({
          id: l.id,
          theme: l.theme,
          name: l.name,
          owner_dept: l.ownerDept,
          geometry_type: l.geometryType,
          update_frequency: l.updateFrequency,
          classification: l.classification,
        })),
      ),
      BATCH,
    ],
  );

  const counts: Record<string, number> = {};
  for (const [index, layer] of LAYERS.entries()) {
    const layerSeed = seed * 31 + index;
    // One row per feature: a county (chosen by a seeded hash) and a point inside its polygon.
    const base = `
      WITH counties AS (
        SELECT code, boundary FROM divisions
         WHERE level = 'county' AND valid_to IS NULL AND boundary IS NOT NULL
           AND code LIKE ANY (SELECT p || '%' FROM unnest($3::text[]) p)),
      picks AS (
        SELECT n, (SELECT c.code FROM counties c ORDER BY md5(c.code || ':' || n || ':' || $2::int) LIMIT 1) AS code
          FROM generate_series(1, $1::int) n),
      seeded AS (
        SELECT p.n, c.code, c.boundary,
               ST_GeometryN(ST_GeneratePoints(c.boundary, 2, $2::int * 1000 + p.n), 1) AS pt,
               ST_GeometryN(ST_GeneratePoints(c.boundary, 2, $2::int * 1000 + p.n), 2) AS pt2,
               -- Clipping against a boundary shrunk by ≈50 m keeps rounding from pushing vertices outside.
               ST_Buffer(c.boundary, -0.0005) AS inner_boundary
          FROM picks p JOIN counties c ON c.code = p.code)`;
    let geom: string;
    if (layer.geometryType === 'Point') geom = 'pt';
    else if (layer.geometryType === 'MultiLineString')
      geom = 'ST_Multi(ST_CollectionExtract(ST_Intersection(ST_MakeLine(pt, pt2), inner_boundary), 2))';
    else {
      const radius = layer.id === 'rs-footprints' ? 0.2 : 0.01 + (index % 3) * 0.01;
      geom = `ST_Multi(ST_CollectionExtract(ST_Intersection(ST_Buffer(pt, ${radius}, 'quad_segs=4'), inner_boundary), 3))`;
    }
    const props = Object.entries(layer.properties).map(([name, p]) => {
      let value: string;
      if (p.values)
        value = `(ARRAY[${p.values.map((v) => `'${v}'`).join(',')}])[1 + (n % ${p.values.length})]`;
      else if (p.type === 'boolean') value = `(n % 2 = 0)`;
      else if (p.type === 'integer') value = `(1 + n % 5)`;
      else if (p.type === 'number')
        value =
          name === 'cloud_cover' ? `round((n * 37 % 1000) / 10.0, 1)` : `round((n * 7 % 100) / 10.0, 2)`;
      else if (p.type === 'date') value = `to_char(date '2020-01-01' + (n * 13 % 1500), 'YYYY-MM-DD')`;
      else if (p.type === 'date-time')
        value = `to_char(timestamptz '2024-01-01 00:00:00+00' + n * interval '7 hours 13 minutes', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')`;
      else value = `'${name}-' || n`;
      return `'${name}', ${value}`;
    });
    const inserted = await db.query<{ n: number }>(
      `${base}
       INSERT INTO features (layer_id, geom, properties, valid_from, division_code, source_dept, source_batch)
       SELECT $4, g, props, date '2024-01-01', code, $5, $6 FROM (
         SELECT code, ${geom} AS g, jsonb_build_object(${props.join(', ')}) AS props FROM seeded) s
        WHERE NOT ST_IsEmpty(g)
       RETURNING 1 AS n`,
      [perLayer, layerSeed, prefixes, layer.id, layer.ownerDept, BATCH],
    );
    counts[layer.id] = inserted.length;
  }

  // Injected invalid geometries: bowtie polygons (self-intersection) in the farmland layer.
  const invalid = await db.query<{ id: number; layer_id: string; reason: string }>(
    `WITH c AS (
       SELECT code, ST_PointOnSurface(boundary) AS pt FROM divisions
        WHERE level = 'county' AND valid_to IS NULL AND boundary IS NOT NULL
          AND code LIKE ANY (SELECT p || '%' FROM unnest($2::text[]) p)
        ORDER BY md5(code || $3::text) LIMIT $1::int)
     INSERT INTO features (layer_id, geom, properties, valid_from, division_code, source_dept, source_batch)
     SELECT 'farmland',
            ST_SetSRID(ST_MakePolygon(ST_MakeLine(ARRAY[
              ST_Point(ST_X(pt) - 0.005, ST_Y(pt) - 0.005), ST_Point(ST_X(pt) + 0.005, ST_Y(pt) + 0.005),
              ST_Point(ST_X(pt) + 0.005, ST_Y(pt) - 0.005), ST_Point(ST_X(pt) - 0.005, ST_Y(pt) + 0.005),
              ST_Point(ST_X(pt) - 0.005, ST_Y(pt) - 0.005)])), 4490),
            jsonb_build_object('crop', 'rice', 'irrigated', false), date '2024-01-01', code, 'MNR', $4
       FROM c
     RETURNING id, layer_id, ST_IsValidReason(geom) AS reason`,
    [invalidCount, prefixes, String(seed), `${BATCH}-invalid`],
  );
  counts.farmland = (counts.farmland ?? 0) + invalid.length;

  // Gazetteer: every current province, city and county at a point on its polygon; towns (no polygons)
  // at a seeded point inside their county's polygon, else their city's.
  const seats = await db.query<{ n: number }>(
    `INSERT INTO place_names (name, type, division_code, point, source_dept, source_batch)
     SELECT d.name, d.level || '_seat', d.code, ST_PointOnSurface(d.boundary), 'MCA', $2
       FROM divisions d
      WHERE d.valid_to IS NULL AND d.boundary IS NOT NULL AND d.level IN ('province', 'city', 'county')
        AND d.code LIKE ANY (SELECT p || '%' FROM unnest($1::text[]) p)
     RETURNING 1 AS n`,
    [prefixes, BATCH],
  );
  const towns = await db.query<{ n: number }>(
    `INSERT INTO place_names (name, type, division_code, point, source_dept, source_batch)
     SELECT t.name, 'town_seat', t.code,
            -- ST_GeneratePoints can come back empty for some seeds on island-rich polygons.
            COALESCE(ST_GeometryN(ST_GeneratePoints(COALESCE(c.boundary, ci.boundary), 1,
                         $3::int + (right(t.code, 6))::int), 1), ST_PointOnSurface(COALESCE(c.boundary, ci.boundary))),
            'MCA', $2
       FROM divisions t
       LEFT JOIN divisions c ON c.code = t.parent_code AND c.boundary IS NOT NULL
       LEFT JOIN divisions ci ON ci.code = left(t.code, 4) || '00' AND ci.boundary IS NOT NULL
      WHERE t.level = 'town' AND t.valid_to IS NULL AND COALESCE(c.boundary, ci.boundary) IS NOT NULL
        AND t.code LIKE ANY (SELECT p || '%' FROM unnest($1::text[]) p)
     RETURNING 1 AS n`,
    [prefixes, BATCH, seed],
  );

  return {
    layers: LAYERS.length,
    features: counts,
    invalid: invalid.map((r) => ({ id: Number(r.id), layerId: r.layer_id, reason: r.reason })),
    placeNames: seats.length + towns.length,
  };
}
