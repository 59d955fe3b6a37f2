import type { Database } from '../db/index.ts';
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
