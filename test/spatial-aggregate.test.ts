import { sql } from 'drizzle-orm';
import {
  cellToBoundary,
  cellToLatLng,
  getIcosahedronFaces,
  getPentagons,
  isPentagon,
  latLngToCell,
} from 'h3-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_PRINCIPALS } from '../src/access/demo.ts';
import type { Gateway } from '../src/gateway/server.ts';
import { boxDegrees, H3Counts, h3Aggregate } from '../src/registries/spatial/h3-aggregate.ts';
import { MAX_CELLS } from '../src/registries/spatial/spatial-aggregate.ts';
import { type TestDatabase, testDatabase } from '../src/testing/database.ts';
import { asKey, gql, testGateway } from '../src/testing/gateway.ts';

/**
 * H3 aggregation without an H3 extension: boxes of points grouped in SQL, placed whole only when proven
 * inside one cell, else point by point. Every count must equal h3-js `latLngToCell` applied to each point.
 */

const MPS = asKey(DEMO_PRINCIPALS.nationalPublicSecurity.key, 'criminal_investigation');

function lcg(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    return s / 2 ** 31;
  };
}

/** Clustered locations, each holding 1–4 points: Beijing, and across the F/K icosahedron face edge near 120°E. */
function clusteredPoints(seed: number): [number, number][] {
  const random = lcg(seed);
  const points: [number, number][] = [];
  const regions = [
    { clusters: 60, lng: [116.0, 116.8], lat: [39.7, 40.2] },
    { clusters: 40, lng: [119.3, 120.7], lat: [24.0, 26.0] },
  ];
  for (const r of regions) {
    for (let c = 0; c < r.clusters; c++) {
      const lng = r.lng[0]! + random() * (r.lng[1]! - r.lng[0]!);
      const lat = r.lat[0]! + random() * (r.lat[1]! - r.lat[0]!);
      for (let l = 0; l < 30; l++) {
        const at: [number, number] = [lng + (random() - 0.5) * 0.002, lat + (random() - 0.5) * 0.002];
        const repeat = 1 + Math.floor(random() * 4);
        for (let k = 0; k < repeat; k++) points.push(at);
      }
    }
  }
  return points;
}

function truth(points: { x: number; y: number }[], resolution: number): Map<string, number> {
  const counts = new Map<string, number>();
  for (const p of points) {
    const cell = latLngToCell(p.y, p.x, resolution);
    counts.set(cell, (counts.get(cell) ?? 0) + 1);
  }
  return counts;
}

const sorted = (m: Map<string, number>) => [...m.entries()].sort(([a], [b]) => (a < b ? -1 : 1));

describe('the box test (no database)', () => {
  it('places a box in a cell only when every sampled point of it is in that cell', () => {
    const random = lcg(7);
    let boxes = 0;
    let claimed = 0;
    let nearEdgeClaimed = 0;
    const wrong: string[] = [];
    for (let resolution = 0; resolution <= 15; resolution++) {
      const counter = new H3Counts(resolution);
      for (let k = 0; k < 400; k++) {
        const lat = 18 + random() * 35;
        const lng = 74 + random() * 60;
        const { dx, dy } = boxDegrees(resolution, lat);
        let x0: number;
        let y0: number;
        let w: number;
        let h: number;
        if (k % 2 === 0) {
          // A random rectangle inside one SQL box.
          x0 = Math.floor(lng / dx) * dx + random() * dx * 0.5;
          y0 = Math.floor(lat / dy) * dy + random() * dy * 0.5;
          w = random() * dx * 0.5;
          h = random() * dy * 0.5;
        } else {
          // A small rectangle close to a point on an edge of the cell.
          const ring = cellToBoundary(latLngToCell(lat, lng, resolution));
          const a = ring[k % ring.length]!;
          const b = ring[(k + 1) % ring.length]!;
          const t = random();
          const offset = (random() - 0.5) * dy * 0.2;
          x0 = a[1] + (b[1] - a[1]) * t + offset;
          y0 = a[0] + (b[0] - a[0]) * t + offset * random();
          w = random() * dx * 0.05;
          h = random() * dy * 0.05;
        }
        boxes++;
        const cell = counter.cellOfBox(x0, y0, x0 + w, y0 + h);
        if (cell === null) continue;
        claimed++;
        if (k % 2 === 1) nearEdgeClaimed++;
        const samples: [number, number][] = [
          [x0, y0],
          [x0 + w, y0],
          [x0, y0 + h],
          [x0 + w, y0 + h],
          [x0 + w / 2, y0],
          [x0 + w / 2, y0 + h],
          [x0, y0 + h / 2],
          [x0 + w, y0 + h / 2],
        ];
        for (let s = 0; s < 40; s++) samples.push([x0 + random() * w, y0 + random() * h]);
        for (const [x, y] of samples) {
          const found = latLngToCell(y, x, resolution);
          if (found !== cell) wrong.push(`res ${resolution} (${x}, ${y}): ${found}, not ${cell}`);
        }
      }
    }
    expect(wrong).toEqual([]);
    // Not vacuous: most boxes, and many near an edge, are placed whole.
    expect(claimed).toBeGreaterThan(boxes * 0.6);
    expect(nearEdgeClaimed).toBeGreaterThan(500);
  });

  it('refuses a box across a cell edge', () => {
    const random = lcg(11);
    let refused = 0;
    for (let k = 0; k < 300; k++) {
      const resolution = 3 + (k % 10);
      const lat = 20 + random() * 30;
      const lng = 80 + random() * 50;
      const ring = cellToBoundary(latLngToCell(lat, lng, resolution));
      const a = ring[k % ring.length]!;
      const b = ring[(k + 1) % ring.length]!;
      const [my, mx] = [(a[0] + b[0]) / 2, (a[1] + b[1]) / 2];
      const { dy } = boxDegrees(resolution, lat);
      const half = dy * 0.1;
      const corners = [
        latLngToCell(my - half, mx - half, resolution),
        latLngToCell(my - half, mx + half, resolution),
        latLngToCell(my + half, mx - half, resolution),
        latLngToCell(my + half, mx + half, resolution),
      ];
      // Only boxes that really hold two cells (the test must be able to fail).
      if (new Set(corners).size < 2) continue;
      refused++;
      expect(new H3Counts(resolution).cellOfBox(mx - half, my - half, mx + half, my + half)).toBeNull();
    }
    expect(refused).toBeGreaterThan(200);
  });

  it('never places a box whole in a pentagon or in a cell on two icosahedron faces', () => {
    const two = [];
    for (let lng = 119; lng <= 121; lng += 0.01) {
      const cell = latLngToCell(25, lng, 7);
      if (getIcosahedronFaces(cell).length > 1) two.push(cell);
    }
    expect(two.length).toBeGreaterThan(0);
    for (const cell of [...two, ...getPentagons(5), ...getPentagons(9)]) {
      const [lat, lng] = cellToLatLng(cell);
      const resolution = isPentagon(cell) ? (getPentagons(5).includes(cell) ? 5 : 9) : 7;
      const counter = new H3Counts(resolution);
      expect(latLngToCell(lat, lng, resolution)).toBe(cell);
      expect(counter.cellOfBox(lng - 1e-7, lat - 1e-7, lng + 1e-7, lat + 1e-7)).toBeNull();
      // A single location is still placed (exactly, by latLngToCell).
      expect(counter.addBox(lng, lat, lng, lat, 3)).toBe(true);
      expect(counter.counts.get(cell)).toBe(3);
    }
  });
});

describe('h3Aggregate over the database', () => {
  let db: TestDatabase;
  let points: { x: number; y: number }[];

  beforeAll(async () => {
    db = await testDatabase();
    const generated = clusteredPoints(5);
    await db.exec('CREATE TABLE h3_points (pt geometry(Point, 4490))');
    await db.query(
      `INSERT INTO h3_points SELECT ST_SetSRID(ST_Point(x, y), 4490) FROM unnest($1::float8[], $2::float8[]) AS t(x, y)`,
      [generated.map((p) => p[0]), generated.map((p) => p[1])],
    );
    points = await db.query<{ x: number; y: number }>('SELECT ST_X(pt) AS x, ST_Y(pt) AS y FROM h3_points');
    expect(points.length).toBe(generated.length);
  });
  afterAll(() => db?.dispose());

  it('equals latLngToCell of every point, at coarse and fine resolutions', async () => {
    const paths = { oneLocation: 0, provenInside: 0, locations: 0 };
    for (const resolution of [3, 5, 7, 9, 11]) {
      const counts = await h3Aggregate(db, sql`WITH p AS (SELECT pt FROM h3_points)`, {
        resolution,
        latitude: 32,
      });
      expect(sorted(counts.counts)).toEqual(sorted(truth(points, resolution)));
      const { stats } = counts;
      expect(stats.oneLocation + stats.provenInside + stats.straddling).toBe(stats.boxes);
      paths.oneLocation += stats.oneLocation;
      paths.provenInside += stats.provenInside;
      paths.locations += stats.locations;
      if (resolution <= 7) expect(stats.boxes + stats.locations).toBeLessThan(points.length);
    }
    // Every path was taken: single locations, boxes proven inside, locations of straddling boxes.
    expect(paths.oneLocation).toBeGreaterThan(0);
    expect(paths.provenInside).toBeGreaterThan(0);
    expect(paths.locations).toBeGreaterThan(0);
  });

  it('streams through a cursor and stops when the caller throws', async () => {
    await expect(
      h3Aggregate(db, sql`WITH p AS (SELECT pt FROM h3_points)`, {
        resolution: 11,
        latitude: 32,
        onCells: (n) => {
          if (n > 100) throw new Error('too many cells');
        },
      }),
    ).rejects.toThrow('too many cells');
    // The transaction was rolled back: the connection is usable.
    const [row] = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM h3_points');
    expect(row!.n).toBe(points.length);
  });
});

describe('spatialAggregate by H3 through the gateway', () => {
  let db: TestDatabase;
  let gateway: Gateway;
  const AREA = {
    type: 'Polygon',
    coordinates: [
      [
        [115.9, 39.6],
        [117.0, 39.6],
        [117.0, 40.3],
        [115.9, 40.3],
        [115.9, 39.6],
      ],
    ],
  };
  const FAR = {
    type: 'Polygon',
    coordinates: [
      [
        [85.0, 43.0],
        [85.6, 43.0],
        [85.6, 43.5],
        [85.0, 43.5],
        [85.0, 43.0],
      ],
    ],
  };
  const Q = `query($a: GeoJSON!, $by: SpatialGrouping!, $r: Int, $cell: Float) {
    spatialAggregate(subject: PERSONS, area: $a, by: $by, resolution: $r, cellMetres: $cell) {
      total cells { key count suppressed geometry } } }`;

  beforeAll(async () => {
    db = await testDatabase();
    const located = clusteredPoints(9);
    // Persons at the clustered locations, and 105,000 at distinct random locations far west (for the cell cap).
    await db.query(
      `INSERT INTO persons (id_number, name, gender, birth_date, hukou_division_code, residence_division_code,
                            residence_point, status, source_dept, source_batch)
       SELECT 'H3' || lpad(n::text, 16, '0'), '测试', '1', DATE '1970-01-01' + (n % 20000)::int, '110105', '110105',
              ST_SetSRID(ST_Point(x, y), 4490), CASE WHEN n % 10 = 0 THEN 'deceased' ELSE 'alive' END, 'MPS', 'h3-test'
         FROM unnest($1::float8[], $2::float8[]) WITH ORDINALITY AS t(x, y, n)`,
      [located.map((p) => p[0]), located.map((p) => p[1])],
    );
    await db.query(
      `INSERT INTO persons (id_number, name, gender, birth_date, hukou_division_code, residence_division_code,
                            residence_point, source_dept, source_batch)
       SELECT 'HF' || lpad(n::text, 16, '0'), '测试', '2', DATE '1980-01-01', '650102', '650102',
              ST_SetSRID(ST_Point(85.0 + 0.6 * ((n * 0.6180339887) % 1), 43.0 + 0.5 * ((n * 0.7548776662) % 1)), 4490),
              'MPS', 'h3-test'
         FROM generate_series(1, 105000) n`,
    );
    // Seven at sea, outside every division polygon.
    await db.query(
      `INSERT INTO persons (id_number, name, gender, birth_date, hukou_division_code, residence_division_code,
                            residence_point, source_dept, source_batch)
       SELECT 'HS' || lpad(n::text, 16, '0'), '测试', '2', DATE '1990-01-01', '310101', '310101',
              ST_SetSRID(ST_Point(123.7 + n * 0.01, 30.2), 4490), 'MPS', 'h3-test'
         FROM generate_series(1, 7) n`,
    );
    gateway = await testGateway(db);
  });
  afterAll(() => db?.dispose());

  it('counts per H3 cell equal latLngToCell of each alive resident in the area', async () => {
    const inArea = await db.query<{ x: number; y: number }>(
      `SELECT ST_X(residence_point) AS x, ST_Y(residence_point) AS y FROM persons
        WHERE status = 'alive' AND ST_Intersects(ST_SetSRID(ST_GeomFromGeoJSON($1), 4490), residence_point)`,
      [JSON.stringify(AREA)],
    );
    expect(inArea.length).toBeGreaterThan(1000);
    for (const resolution of [6, 8]) {
      const r = await gql(gateway, Q, { a: AREA, by: 'H3', r: resolution }, MPS);
      expect(r.errors).toBeUndefined();
      const result = r.data!.spatialAggregate;
      expect(result.total).toBe(inArea.length);
      expect(result.cells.map((c: { key: string; count: number }) => [c.key, c.count])).toEqual(
        sorted(truth(inArea, resolution)),
      );
      const first = result.cells[0];
      expect(first.geometry.type).toBe('Polygon');
      expect(first.geometry.coordinates[0]).toEqual(cellToBoundary(first.key, true));
    }
  });

  it('counts persons outside every division in the total, in no division cell', async () => {
    const sea = {
      type: 'Polygon',
      coordinates: [
        [
          [123.5, 30.0],
          [124.0, 30.0],
          [124.0, 30.5],
          [123.5, 30.5],
          [123.5, 30.0],
        ],
      ],
    };
    const [inSea] = await db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM divisions
        WHERE boundary IS NOT NULL AND ST_Intersects(boundary, ST_SetSRID(ST_GeomFromGeoJSON($1), 4490))`,
      [JSON.stringify(sea)],
    );
    expect(inSea!.n).toBe(0);
    const byDivision = await gql(gateway, Q, { a: sea, by: 'DIVISION_LEVEL' }, MPS);
    expect(byDivision.errors).toBeUndefined();
    expect(byDivision.data!.spatialAggregate).toMatchObject({ total: 7, cells: [] });
    const byH3 = await gql(gateway, Q, { a: sea, by: 'H3', r: 9 }, MPS);
    expect(byH3.data!.spatialAggregate.total).toBe(7);
    expect(byH3.data!.spatialAggregate.cells).toHaveLength(7);
    // With persons on land too (the clusters near 120°E), the total still counts the seven.
    const both = {
      ...sea,
      coordinates: [
        [
          [119.0, 24.0],
          [124.0, 24.0],
          [124.0, 31.5],
          [119.0, 31.5],
          [119.0, 24.0],
        ],
      ],
    };
    const mixed = await gql(gateway, Q, { a: both, by: 'DIVISION_LEVEL' }, MPS);
    const [expected] = await db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM persons
        WHERE status = 'alive' AND ST_Intersects(ST_SetSRID(ST_GeomFromGeoJSON($1), 4490), residence_point)`,
      [JSON.stringify(both)],
    );
    expect(expected!.n).toBeGreaterThan(100);
    expect(mixed.errors).toBeUndefined();
    expect(mixed.data!.spatialAggregate.total).toBe(expected!.n);
    const inCells = mixed.data!.spatialAggregate.cells.reduce(
      (s: number, c: { count: number }) => s + c.count,
      0,
    );
    expect(inCells).toBeLessThanOrEqual(expected!.n - 7);
  });

  it(`refuses more than ${MAX_CELLS} cells, naming the argument`, async () => {
    const h3 = await gql(gateway, Q, { a: FAR, by: 'H3', r: 15 }, MPS);
    expect(h3.errors![0]!.extensions!.code).toBe('INVALID_ARGUMENT');
    expect(h3.errors![0]!.message).toContain("'resolution'");
    const grid = await gql(gateway, Q, { a: FAR, by: 'SQUARE_GRID', cell: 50 }, MPS);
    expect(grid.errors![0]!.extensions!.code).toBe('INVALID_ARGUMENT');
    expect(grid.errors![0]!.message).toContain("'cellMetres'");
    // Coarser is fine: every one of the 105,000 is counted.
    const coarse = await gql(gateway, Q, { a: FAR, by: 'H3', r: 6 }, MPS);
    expect(coarse.errors).toBeUndefined();
    expect(coarse.data!.spatialAggregate.total).toBe(105_000);
    expect(
      coarse.data!.spatialAggregate.cells.reduce((s: number, c: { count: number }) => s + c.count, 0),
    ).toBe(105_000);
  });
});
