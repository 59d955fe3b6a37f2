/**
 * An in-memory LRU of encoded tiles. Keys carry the collection version (see versions.ts) and the caller's
 * access profile, so a bump invalidates a collection and no caller is served another's view.
 */
export interface CachedTile {
  bytes: Uint8Array;
  etag: string;
  features: number;
  served: string[];
}

export interface TileCacheOptions {
  /** @default 5000 */
  maxEntries?: number;
  /** @default 64 MiB */
  maxBytes?: number;
}

export class TileCache {
  private readonly entries = new Map<string, CachedTile>();
  private bytes = 0;
  hits = 0;
  misses = 0;
  private readonly maxEntries: number;
  private readonly maxBytes: number;

  constructor(options: TileCacheOptions = {}) {
    this.maxEntries = options.maxEntries ?? 5000;
    this.maxBytes = options.maxBytes ?? 64 * 1024 * 1024;
  }

  get(key: string): CachedTile | undefined {
    const entry = this.entries.get(key);
    if (!entry) {
      this.misses++;
      return undefined;
    }
    // Refresh its place: a Map iterates in insertion order, so the first key is the least recent.
    this.entries.delete(key);
    this.entries.set(key, entry);
    this.hits++;
    return entry;
  }

  set(key: string, tile: CachedTile): void {
    if (tile.bytes.byteLength > this.maxBytes) return;
    const previous = this.entries.get(key);
    if (previous) {
      this.bytes -= previous.bytes.byteLength;
      this.entries.delete(key);
    }
    this.entries.set(key, tile);
    this.bytes += tile.bytes.byteLength;
    while (this.entries.size > this.maxEntries || this.bytes > this.maxBytes) {
      const oldest = this.entries.keys().next();
      if (oldest.done) break;
      this.bytes -= this.entries.get(oldest.value)!.bytes.byteLength;
      this.entries.delete(oldest.value);
    }
  }

  get size(): number {
    return this.entries.size;
  }
}
