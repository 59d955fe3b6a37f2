import type { Database } from '../db/index.ts';
import { generateLayers } from './generate/layers.ts';
import { generatePopulation } from './generate/population.ts';

export const SEED = 'govbase-seed';

/** Fills an empty embedded database with a small synthetic population; returns how many it made. */
export async function seedPopulation(db: Database, persons: number): Promise<number> {
  if (persons <= 0) return 0;
  const [row] = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM persons');
  if ((row?.n ?? 0) > 0) return 0;
  const manifest = await generatePopulation(db, { persons, seed: SEED, batch: 'seed' });
  return manifest.persons;
}

/** Fills empty thematic layers with generated features inside the real boundaries. */
export async function seedLayers(db: Database): Promise<number> {
  const [row] = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM features');
  if ((row?.n ?? 0) > 0) return 0;
  await generateLayers(db, { seed: 1, perLayer: 200 });
  const [after] = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM features');
  return after?.n ?? 0;
}
