import type { Database } from '../db/index.ts';
import type { Collection } from './collections.ts';
import { collectionVersion } from './versions.ts';

/** A collection's extent: bbox in CRS84 (= storage lon/lat) and the temporal interval, if any. */
export interface Extent {
  bbox: [number, number, number, number] | null;
  interval: [string | null, string | null] | null;
}

function temporalText(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  if (value instanceof Date) return value.toISOString();
  const text = String(value);
  return /^\d{4}-\d{2}-\d{2}$/.test(text) ? `${text}T00:00:00Z` : new Date(text).toISOString();
}

/** The SQL computing a collection's extent over all its rows (the extent is collection metadata). */
export function extentSql(collection: Collection): string {
  const t = collection.temporal;
  return `SELECT ST_XMin(e) AS xmin, ST_YMin(e) AS ymin, ST_XMax(e) AS xmax, ST_YMax(e) AS ymax, t0, t1, open
    FROM (SELECT ST_Extent(${collection.geometry.column}) AS e,
                 ${t ? `min(${t.start})` : 'NULL'} AS t0, ${t?.end ? `max(${t.end})` : 'NULL'} AS t1,
                 ${t?.end ? `bool_or(${t.end} IS NULL)` : 'true'} AS open
            FROM ${collection.source} AS src) q`;
}

/** Extents by collection and version: computed on first use, recomputed after invalidateCollection(). */
export class ExtentCache {
  private readonly entries = new Map<string, Promise<Extent>>();

  get(db: Database, collection: Collection): Promise<Extent> {
    const key = `${collection.id}@${collectionVersion(collection.id)}`;
    const cached = this.entries.get(key);
    if (cached) return cached;
    for (const old of this.entries.keys()) if (old.startsWith(`${collection.id}@`)) this.entries.delete(old);
    const extent = db
      .query<{
        xmin: number | null;
        ymin: number;
        xmax: number;
        ymax: number;
        t0: unknown;
        t1: unknown;
        open: boolean;
      }>(extentSql(collection))
      .then(([row]) => ({
        bbox: row && row.xmin !== null ? ([row.xmin, row.ymin, row.xmax, row.ymax] as Extent['bbox']) : null,
        interval:
          collection.temporal && row
            ? ([temporalText(row.t0), row.open ? null : temporalText(row.t1)] as Extent['interval'])
            : null,
      }));
    extent.catch(() => this.entries.delete(key));
    this.entries.set(key, extent);
    return extent;
  }
}
