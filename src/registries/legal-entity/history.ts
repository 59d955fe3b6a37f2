import { sql } from 'drizzle-orm';
import { entitiesDataset, entitiesHistoryDataset } from '../../../schema/legal-entity.ts';
import { parseUscc } from '../../codes/index.ts';
import { rows } from '../../db/index.ts';
import { errors } from '../../errors.ts';
import { builder } from '../../gateway/builder.ts';
import type { GatewayContext } from '../../gateway/context.ts';
import { versionsSql, versionTimeFields } from '../versions.ts';
import { ENTITY_COLUMNS, type EntityRow } from './entity-store.ts';
import {
  AssetBandEnum,
  EntityStatusEnum,
  LegalFormEnum,
  ParentRelationEnum,
  UsccStatusEnum,
} from './entity-types.ts';

/**
 * Entities as they were: superseded versions sit in entities_history (written by the table's trigger),
 * each current over [valid_from, superseded_at) in transaction time — what the registry recorded then.
 * `entity(uscc, asOf:)` serves such a version as an Entity; `entityVersions(uscc)` lists them all as
 * EntityVersion, classified by the history dataset's catalogue (its own grant).
 */

export interface EntityVersionRow extends EntityRow {
  /** When this version was replaced; null for the current version. */
  validTo: Date | null;
}

/** The id of the entity a USCC names, now or (once deleted) in its history. */
const ENTITY_ID = (uscc: string) =>
  sql`SELECT coalesce((SELECT id FROM entities WHERE uscc = ${uscc}),
                      (SELECT id FROM entities_history WHERE uscc = ${uscc} LIMIT 1)) AS id`;

/** The entity as the registry recorded it at `asOf`; null when unknown then. */
export async function entityAsOf(
  ctx: GatewayContext,
  uscc: string,
  asOf: Date,
): Promise<EntityVersionRow | null> {
  const at = asOf.toISOString();
  const [version] = await rows<EntityVersionRow>(
    ctx.db,
    sql`WITH k AS (${ENTITY_ID(uscc)})
        SELECT * FROM (
          SELECT ${ENTITY_COLUMNS}, NULL::timestamptz AS "validTo" FROM entities e, k
           WHERE e.id = k.id AND e.valid_from <= ${at}::timestamptz
          UNION ALL
          SELECT ${ENTITY_COLUMNS}, e.superseded_at AS "validTo" FROM entities_history e, k
           WHERE e.id = k.id AND e.valid_from <= ${at}::timestamptz AND e.superseded_at > ${at}::timestamptz) v
        ORDER BY "validFrom" DESC, "version" DESC LIMIT 1`,
  );
  return version ?? null;
}

/** Every version of an entity, newest first (the current one included). */
export async function entityVersions(ctx: GatewayContext, uscc: string): Promise<EntityVersionRow[]> {
  return rows<EntityVersionRow>(
    ctx.db,
    sql`WITH k AS (${ENTITY_ID(uscc)}) ${versionsSql('entities', 'e', ENTITY_COLUMNS, sql`(SELECT id FROM k)`)}`,
  );
}

export const EntityVersionRef = builder.objectRef<EntityVersionRow>('EntityVersion');
EntityVersionRef.implement({
  description: 'A version of an entity as the registry recorded it, current from validFrom until validTo',
  dataset: entitiesHistoryDataset,
  auditSubject: (e) => (e.legalRepPersonId ? `person:${e.legalRepPersonId}` : null),
  fields: (t) => ({
    ...versionTimeFields(t),
    uscc: t.exposeString('uscc'),
    usccStatus: t.field({ type: UsccStatusEnum, resolve: (e) => e.usccStatus }),
    name: t.exposeString('name'),
    legalForm: t.field({ type: LegalFormEnum, resolve: (e) => e.legalForm }),
    legalRepresentativeName: t.exposeString('legalRepName', {
      nullable: true,
      access: { field: 'legalRepName' },
    }),
    legalRepresentativeIdNumber: t.exposeString('legalRepIdNumber', {
      nullable: true,
      access: { field: 'legalRepIdNumber' },
    }),
    registeredCapital: t.exposeString('registeredCapital', { nullable: true }),
    capitalCurrency: t.exposeString('capitalCurrency'),
    establishedOn: t.expose('establishedOn', { type: 'Date' }),
    status: t.field({ type: EntityStatusEnum, resolve: (e) => e.status }),
    statusDate: t.expose('statusDate', { type: 'Date', nullable: true }),
    businessScope: t.exposeString('businessScope', { nullable: true }),
    industryCode: t.exposeString('industryCode', { nullable: true }),
    divisionCode: t.exposeString('divisionCode'),
    address: t.exposeString('address', { nullable: true }),
    point: t.expose('point', { type: 'GeoJSON', nullable: true }),
    registrationAuthority: t.exposeString('registrationAuthority'),
    parentRelation: t.field({ type: ParentRelationEnum, nullable: true, resolve: (e) => e.parentRelation }),
    assetBand: t.field({ type: AssetBandEnum, nullable: true, resolve: (e) => e.assetBand }),
    totalAssets: t.exposeString('totalAssets', { nullable: true }),
    annualRevenue: t.exposeString('annualRevenue', { nullable: true }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
    sourceDept: t.exposeString('sourceDept'),
    sourceBatch: t.exposeString('sourceBatch', { nullable: true }),
  }),
});

builder.queryField('entityVersions', (t) =>
  t.field({
    type: [EntityVersionRef],
    description:
      'Every version of an entity as the registry recorded it, newest first, the current one included (needs ' +
      'a grant on legal_entity.entities_history)',
    args: { uscc: t.arg.string({ required: true }) },
    requiresDataset: entitiesHistoryDataset,
    resolve: async (_root, args, ctx) => {
      ctx.access.requireDataset(entitiesDataset);
      const parsed = parseUscc(args.uscc);
      if (!parsed.ok) throw errors.invalidUscc('uscc', args.uscc, parsed.message);
      const versions = await entityVersions(ctx, parsed.value.uscc);
      const latest = versions[0];
      const scope = ctx.access.principal.scope;
      if (latest && scope && !(latest.divisionCode >= scope.lo && latest.divisionCode <= scope.hi)) {
        throw errors.outOfJurisdiction(`The entity with USCC argument 'uscc'`);
      }
      return versions;
    },
  }),
);
