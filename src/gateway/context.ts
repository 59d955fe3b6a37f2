import DataLoader from 'dataloader';
import type { RequestAccess } from '../access/request-access.ts';
import type { Config } from '../config.ts';
import type { Database } from '../db/index.ts';

/**
 * Dataloaders live exactly one request: created on first use, keyed by name, so registries add their
 * own without a central list.
 */
export class Loaders {
  private readonly loaders = new Map<string, DataLoader<unknown, unknown>>();

  get<K, V>(name: string, batch: (keys: readonly K[]) => Promise<(V | Error)[]>): DataLoader<K, V> {
    let loader = this.loaders.get(name);
    if (!loader) {
      loader = new DataLoader<K, V>(batch, { maxBatchSize: 5000 }) as DataLoader<unknown, unknown>;
      this.loaders.set(name, loader);
    }
    return loader as DataLoader<K, V>;
  }
}

export interface GatewayContext {
  db: Database;
  config: Config;
  access: RequestAccess;
  loaders: Loaders;
}
