/**
 * A version per collection, bumped when its data changes. Caches (tiles, extents) put it in their keys,
 * so a bump makes every cached entry of the collection unreachable at once (the LRU then drops them); a
 * change notification calls `invalidateCollection(id)`.
 */
const versions = new Map<string, number>();

export function collectionVersion(id: string): number {
  return versions.get(id) ?? 0;
}

/** Marks a collection's data as changed: cached tiles and extents of it are no longer served. */
export function invalidateCollection(id: string): void {
  versions.set(id, collectionVersion(id) + 1);
}
