import type { SQL } from 'drizzle-orm';
import type { Database } from './database.ts';

/** Runs a composed drizzle `sql` query (counted like every statement) and returns its rows. */
export async function rows<T>(database: Database, query: SQL): Promise<T[]> {
  const result = (await database.db.execute(query)) as unknown as { rows: T[] };
  return result.rows;
}

/** Orders a batch's rows to the loader's keys: one list per key, in key order. */
export function groupByKey<K, R>(keys: readonly K[], found: readonly R[], keyOf: (row: R) => K): R[][] {
  const groups = new Map<K, R[]>();
  for (const row of found) {
    const key = keyOf(row);
    const group = groups.get(key);
    if (group) group.push(row);
    else groups.set(key, [row]);
  }
  return keys.map((key) => groups.get(key) ?? []);
}
