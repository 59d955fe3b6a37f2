import { sql } from 'drizzle-orm';
import { householdsDataset, householdsHistoryDataset } from '../../../schema/population.ts';
import { rows } from '../../db/index.ts';
import { errors } from '../../errors.ts';
import { builder } from '../../gateway/builder.ts';
import type { GatewayContext } from '../../gateway/context.ts';
import { type VersionTimes, versionsSql, versionTimeFields } from '../versions.ts';
import type { HouseholdRow } from './household-store.ts';
import { HouseholdType } from './person-types.ts';

/**
 * Households as they were, like persons (./history.ts): households_history keeps every superseded version
 * (written by the table's trigger, migration 0019) with the transaction times it was current over,
 * [valid_from, superseded_at). `householdVersions(householdNumber)` lists them, classified by the history
 * dataset's catalogue (its own grant). Membership is not versioned here: household_members keeps its own
 * validity dates.
 */

export interface HouseholdVersionRow extends HouseholdRow, VersionTimes {}

const COLUMNS =
  sql.raw(`h.id, h.household_number AS "householdNumber", h.type, h.head_person_id AS "headPersonId",
  h.division_code AS "divisionCode", h.address, h.version, h.valid_from AS "validFrom", h.updated_at AS "updatedAt",
  h.source_dept AS "sourceDept", h.source_batch AS "sourceBatch"`);

/** Every version of the household a number names (now, or last before it was deleted), newest first. */
export async function householdVersions(
  ctx: GatewayContext,
  householdNumber: string,
): Promise<HouseholdVersionRow[]> {
  return rows<HouseholdVersionRow>(
    ctx.db,
    sql`WITH target AS (
          SELECT id FROM households WHERE household_number = ${householdNumber}
          UNION ALL
          (SELECT id FROM households_history WHERE household_number = ${householdNumber}
            ORDER BY superseded_at DESC LIMIT 1)
          LIMIT 1)
        ${versionsSql('households', 'h', COLUMNS, sql`(SELECT id FROM target)`)}`,
  );
}

export const HouseholdVersionRef = builder.objectRef<HouseholdVersionRow>('HouseholdVersion');
HouseholdVersionRef.implement({
  description: 'A version of a household as the registry recorded it, current from validFrom until validTo',
  dataset: householdsHistoryDataset,
  auditSubject: (h) => `household:${h.id}`,
  fields: (t) => ({
    ...versionTimeFields(t),
    householdNumber: t.exposeString('householdNumber'),
    type: t.field({ type: HouseholdType, resolve: (h) => h.type }),
    divisionCode: t.exposeString('divisionCode'),
    address: t.exposeString('address', { nullable: true }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
    sourceDept: t.exposeString('sourceDept'),
    sourceBatch: t.exposeString('sourceBatch', { nullable: true }),
  }),
});

builder.queryField('householdVersions', (t) =>
  t.field({
    type: [HouseholdVersionRef],
    description:
      'Every version of a household as the registry recorded it, newest first, the current one included ' +
      '(needs grants on population.households and population.households_history)',
    args: { householdNumber: t.arg.string({ required: true }) },
    requiresDataset: householdsHistoryDataset,
    filters: { householdNumber: { dataset: householdsDataset, field: 'householdNumber' } },
    resolve: async (_root, args, ctx) => {
      ctx.access.requireDataset(householdsDataset);
      const versions = await householdVersions(ctx, args.householdNumber.trim());
      // The jurisdiction is the household's as it is now (or was last).
      const latest = versions[0];
      if (latest && !ctx.access.inScope(latest.divisionCode)) {
        throw errors.outOfJurisdiction(`Household '${args.householdNumber}'`);
      }
      return versions;
    },
  }),
);
