import { sql } from 'drizzle-orm';
import { featuresDataset, featuresHistoryDataset } from '../../../schema/geospatial.ts';
import { rows } from '../../db/index.ts';
import { errors } from '../../errors.ts';
import { builder } from '../../gateway/builder.ts';
import type { GatewayContext } from '../../gateway/context.ts';
import {
  FEATURE_COLUMNS,
  FeaturePropertyRef,
  FeatureRef,
  type FeatureRow,
  visibleLayers,
} from './layer-queries.ts';

/**
 * Features as they were, like persons and entities (src/registries/population/history.ts): every superseded
 * version sits in features_history (written by the table's trigger, migration 0016) with the time the
 * registry recorded it (recorded_from) and the time it was replaced (superseded_at), both transaction times.
 * A feature's validFrom/validTo stay its business validity. `feature(id, asOf:)` serves the version current
 * at an instant as a Feature; `featureVersions(id)` lists them all as FeatureVersion, classified by the
 * history dataset (its own grant).
 */

export interface FeatureVersionRow extends FeatureRow {
  /** When this version was replaced; null for the current version. */
  supersededAt: Date | null;
}

const NO_DISTANCE = sql.raw('NULL::float8 AS "distanceMetres"');

function requireFeatureId(value: string, argument: string): number {
  if (!/^[1-9]\d{0,17}$/.test(value)) throw errors.invalidArgument(argument, 'must be a feature id');
  return Number(value);
}

/** The feature's versions of the layers the caller may see, newest first (the current one included). */
export async function featureVersions(ctx: GatewayContext, id: number): Promise<FeatureVersionRow[]> {
  const layers = visibleLayers(ctx).map((l) => l.id);
  return rows<FeatureVersionRow>(
    ctx.db,
    sql`SELECT ${FEATURE_COLUMNS}, ${NO_DISTANCE}, NULL::timestamptz AS "supersededAt" FROM features f
         WHERE f.id = ${id} AND f.layer_id = ANY(${sql.param(layers)}::text[])
        UNION ALL
        SELECT ${FEATURE_COLUMNS}, ${NO_DISTANCE}, f.superseded_at AS "supersededAt" FROM features_history f
         WHERE f.id = ${id} AND f.layer_id = ANY(${sql.param(layers)}::text[])
        ORDER BY version DESC, "recordedFrom" DESC`,
  );
}

/** The feature as the registry recorded it at `asOf`; null when not yet (or no longer) recorded then. */
export async function featureAsOf(
  ctx: GatewayContext,
  id: number,
  asOf: Date,
): Promise<FeatureVersionRow | null> {
  const at = asOf.toISOString();
  const layers = visibleLayers(ctx).map((l) => l.id);
  const [version] = await rows<FeatureVersionRow>(
    ctx.db,
    sql`SELECT * FROM (
          SELECT ${FEATURE_COLUMNS}, ${NO_DISTANCE}, NULL::timestamptz AS "supersededAt" FROM features f
           WHERE f.id = ${id} AND f.recorded_from <= ${at}::timestamptz
          UNION ALL
          SELECT ${FEATURE_COLUMNS}, ${NO_DISTANCE}, f.superseded_at AS "supersededAt" FROM features_history f
           WHERE f.id = ${id} AND f.recorded_from <= ${at}::timestamptz AND f.superseded_at > ${at}::timestamptz) v
         WHERE v."layerId" = ANY(${sql.param(layers)}::text[])
        ORDER BY "recordedFrom" DESC, version DESC LIMIT 1`,
  );
  return version ?? null;
}

export const FeatureVersionRef = builder.objectRef<FeatureVersionRow>('FeatureVersion');
FeatureVersionRef.implement({
  description:
    'A version of a feature as the registry recorded it, current from recordedFrom until supersededAt',
  dataset: featuresHistoryDataset,
  fields: (t) => ({
    id: t.exposeString('id'),
    version: t.exposeInt('version'),
    recordedFrom: t.expose('recordedFrom', { type: 'DateTime' }),
    supersededAt: t.expose('supersededAt', {
      type: 'DateTime',
      nullable: true,
      description: 'When it was replaced (null: the current version)',
    }),
    layerId: t.exposeString('layerId'),
    geometry: t.field({ type: 'GeoJSON', access: { field: 'geom' }, resolve: (f) => f.geometry }),
    properties: t.field({
      type: [FeaturePropertyRef],
      description: 'The typed properties as they were (schema per layer)',
      resolve: (f) => Object.entries(f.properties).map(([name, value]) => ({ name, value })),
    }),
    validFrom: t.expose('validFrom', { type: 'Date', nullable: true }),
    validTo: t.expose('validTo', { type: 'Date', nullable: true }),
    divisionCode: t.exposeString('divisionCode', { nullable: true }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
    sourceDept: t.exposeString('sourceDept'),
    sourceBatch: t.exposeString('sourceBatch', { nullable: true }),
  }),
});

builder.queryField('feature', (t) =>
  t.field({
    type: FeatureRef,
    nullable: true,
    description:
      'A feature of a visible layer by id. With `asOf`, the feature as the registry recorded it at that instant ' +
      '(needs a grant on spatial.features_history)',
    args: {
      id: t.arg.string({ required: true }),
      asOf: t.arg({ type: 'DateTime', description: 'A past instant: the version current then' }),
    },
    requiresDataset: featuresDataset,
    resolve: async (_root, args, ctx) => {
      const id = requireFeatureId(args.id, 'id');
      if (args.asOf) {
        ctx.access.requireDataset(featuresHistoryDataset);
        return featureAsOf(ctx, id, args.asOf);
      }
      const [current] = await featureVersions(ctx, id);
      return current && current.supersededAt === null ? current : null;
    },
  }),
);

builder.queryField('featureVersions', (t) =>
  t.field({
    type: [FeatureVersionRef],
    description:
      'Every version of a feature as the registry recorded it, newest first, the current one included (needs a ' +
      'grant on spatial.features_history)',
    args: { id: t.arg.string({ required: true }) },
    requiresDataset: featuresHistoryDataset,
    resolve: (_root, args, ctx) => featureVersions(ctx, requireFeatureId(args.id, 'id')),
  }),
);
