import type { CollectionContext, FeatureHook } from './collections.ts';

export interface SmallCellOptions {
  /** The count property to suppress. */
  property: string;
  /** Callers who see every count (e.g. a 'restricted' grant on persons). */
  cleared: (ctx: CollectionContext) => boolean;
  /** @default config.suppressionThreshold (GOVBASE_SUPPRESSION_THRESHOLD) */
  threshold?: (ctx: CollectionContext) => number;
}

/**
 * Small-cell suppression for aggregate collections: counts from 1 to threshold−1 become null for callers
 * who are not cleared. Mark the property `queryable: false`, or a filter on it would reveal the count.
 * Suppression is per feature (primary suppression); a collection whose features also publish a total
 * needs complementary suppression on top.
 */
export function smallCellSuppression(options: SmallCellOptions): FeatureHook {
  const threshold = (ctx: CollectionContext) => options.threshold?.(ctx) ?? ctx.config.suppressionThreshold;
  return {
    profile: (ctx) => (options.cleared(ctx) ? 'cleared' : `suppressed<${threshold(ctx)}`),
    apply(features, ctx) {
      if (options.cleared(ctx)) return;
      const limit = threshold(ctx);
      for (const feature of features) {
        const value = feature.properties[options.property];
        if (typeof value === 'number' && value > 0 && value < limit)
          feature.properties[options.property] = null;
      }
    },
  };
}
