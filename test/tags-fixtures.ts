import type { Database } from '../src/db/index.ts';
import { type EntityManifest, generateEntities } from '../src/ingest/generate/entities.ts';
import { generateLayers, type LayersManifest } from '../src/ingest/generate/layers.ts';
import { type GenerationManifest, generatePopulation } from '../src/ingest/generate/population.ts';

/**
 * Generated data for the tag and subject tests: a synthetic population, entities drawn from it, and the
 * thematic layers, all from the project's generators — plus a few targeted additions so every shipped
 * rule tag has members and non-members of each kind (the generated red-line zones are a few small
 * polygons, and the entity generator gives only ~2 % of a county's quota to unregistered sellers):
 *  - ecological red-line zones around 16 entities' points (some entities inactive), and an ended zone around
 *    6 others (must not count);
 *  - farmland parcels beside those zones, half overlapping, half clear;
 *  - online shops run in their own name by 40 persons, 10 of them closed, 8 of the persons legal
 *    representatives of active entities;
 *  - one elderly person living in Beijing Chaoyang (110105), the demo county, for the GraphQL tests.
 */

export const AS_OF = '2025-06-30';

export interface TagTestData {
  population: GenerationManifest;
  entities: EntityManifest;
  layers: LayersManifest;
  /** An elderly person moved to 110105. */
  chaoyangPersonId: number;
}

export async function tagTestData(db: Database): Promise<TagTestData> {
  const population = await generatePopulation(db, { persons: 4000, seed: 'tags', asOf: AS_OF });
  const entities = await generateEntities(db, { entities: 800, seed: 'tags', asOf: AS_OF });
  const layers = await generateLayers(db, { seed: 5, perLayer: 30, prefixes: ['11', '31', '44'] });

  const zone = `jsonb_build_object('zone_kind', 'ecological_protection_red_line', 'approved_on', '2021-06-01')`;
  await db.query(
    `INSERT INTO features (layer_id, geom, properties, valid_from, division_code, source_dept, source_batch)
     SELECT 'planning-zones', ST_Multi(ST_Buffer(e.point, 0.004, 'quad_segs=4')), ${zone}, date '2021-06-01',
            e.division_code, 'MNR', 'test-zones'
       FROM entities e WHERE e.point IS NOT NULL ORDER BY md5('zone' || e.id) LIMIT 16`,
  );
  await db.query(
    `INSERT INTO features (layer_id, geom, properties, valid_from, valid_to, division_code, source_dept, source_batch)
     SELECT 'planning-zones', ST_Multi(ST_Buffer(e.point, 0.004, 'quad_segs=4')), ${zone}, date '2021-06-01',
            date '2024-12-31', e.division_code, 'MNR', 'test-zones-ended'
       FROM entities e WHERE e.point IS NOT NULL AND e.status = 'active'
      ORDER BY md5('ended' || e.id) LIMIT 6`,
  );
  // Farmland beside each test zone: shifted by 0.005° (overlapping the 0.004° zone) or 0.012° (clear of it).
  await db.query(
    `INSERT INTO features (layer_id, geom, properties, valid_from, division_code, source_dept, source_batch)
     SELECT 'farmland', ST_Multi(ST_Buffer(ST_Translate(ST_Centroid(z.geom), CASE WHEN z.id % 2 = 0 THEN 0.005 ELSE 0.012 END, 0),
                                           0.002, 'quad_segs=4')),
            jsonb_build_object('crop', 'rice', 'irrigated', true), date '2020-01-01', z.division_code, 'MNR', 'test-farmland'
       FROM features z WHERE z.source_batch IN ('test-zones', 'test-zones-ended')`,
  );
  await db.query(
    `WITH reps AS (
       SELECT DISTINCT p.id FROM entities e JOIN persons p ON p.id = e.legal_rep_person_id
        WHERE e.status = 'active' ORDER BY p.id LIMIT 8),
     others AS (
       SELECT p.id FROM persons p WHERE p.status = 'alive' AND p.birth_date < date '2005-01-01'
          AND p.id NOT IN (SELECT id FROM reps) ORDER BY md5('shop' || p.id) LIMIT 32),
     sellers AS (SELECT id, row_number() OVER (ORDER BY id) AS n FROM (SELECT id FROM reps UNION ALL SELECT id FROM others) s)
     INSERT INTO online_shops (platform, shop_name, shop_url, operator_kind, operator_person_id, operator_name,
                               division_code, status, opened_on, source_dept, source_batch)
     SELECT '淘宝', '测试小铺' || s.n, 'https://test-shop' || s.n || '.taobao.com', 'person', p.id, p.name,
            COALESCE(p.residence_division_code, p.hukou_division_code),
            CASE WHEN s.n % 4 = 0 THEN 'closed' ELSE 'active' END, date '2023-03-01', 'SAMR', 'test-shops'
       FROM sellers s JOIN persons p ON p.id = s.id`,
  );
  const [chaoyang] = await db.query<{ id: number }>(
    `UPDATE persons SET hukou_division_code = '110105', residence_division_code = '110105'
      WHERE id = (SELECT id FROM persons WHERE status = 'alive' AND birth_date < date '1950-01-01'
                   ORDER BY id LIMIT 1)
     RETURNING id`,
  );
  return { population, entities, layers, chaoyangPersonId: Number(chaoyang!.id) };
}
